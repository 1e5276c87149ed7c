/* stream_demo.c: two video streams through an ahead-of-time compiled ResQ
 * model, using nothing but the header resq-compile generates, libc and libm.
 *
 *   resq-compile examples/tiny_segnet.mlir -o out --name tiny_segnet \
 *       --residualize="step=4" --dynamic-bits="bit-set=0,2,4,8 block=4"
 *   cc -std=c99 -O2 -Iout examples/c/stream_demo.c out/tiny_segnet.o -lm \
 *       -o stream_demo
 *   ./stream_demo --frames 20
 *
 * For a model compiled under another name, add -DMODEL=<name>.
 *
 * Stream A sees a textured square moving over a textured background, stream
 * B another square moving another way (or, with --input, A the frames of a
 * raw file and B the same frames in reverse order). The streams are stepped
 * interleaved (A0 B0 A1 B1 ...) and every frame prints whether it was a
 * keyframe and the fraction of blocks the residualized layers skipped. Then
 * each stream is run again alone, on a fresh stream and after a reset: the
 * outputs and statistics must be identical, since streams are independent.
 *
 * Options:
 *   --frames N        frames per stream (default 30; with --input: all)
 *   --keyframe-at F   force a keyframe at frame F on both streams
 *   --input FILE      stream A's frames: raw input 0 tensors, back to back
 *   --output FILE     write stream A's outputs (output 0), back to back
 *   --stats FILE      write stream A's per-layer statistics as JSON lines
 *   --quiet           print only the final verdict
 * Exit status 0 when interleaved and alone runs agree.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MODEL
#define MODEL tiny_segnet
#endif
#define CAT_(a, b) a##_##b
#define CAT(a, b) CAT_(a, b)
#define M(x) CAT(MODEL, x)
#define STR_(x) #x
#define STR(x) STR_(x)
#include STR(MODEL.h)

#if !M(STATEFUL)
#error "stream_demo needs a residualized (stateful) model"
#endif
#if M(NUM_INPUTS) != 1 || M(NUM_OUTPUTS) != 1
#error "stream_demo drives models with one input and one output"
#endif
#if M(INPUT0_RANK) < 3
#error "stream_demo expects an image input [..., H, W, C]"
#endif

typedef M(input0_t) input_t;
typedef M(output0_t) output_t;
typedef M(stats) stats_t;

#define IN_SIZE ((size_t)M(INPUT0_SIZE))
#define OUT_SIZE ((size_t)M(OUTPUT0_SIZE))
#define NUM_LAYERS M(NUM_LAYERS)

/* A small deterministic generator, so that every platform sees the same
 * frames. */
static uint32_t next_random(uint32_t *state) {
  *state = *state * 1664525u + 1013904223u;
  return *state >> 8;
}
static int random_in(uint32_t *state, int lo, int hi) {
  return lo + (int)(next_random(state) % (uint32_t)(hi - lo + 1));
}

/* frames x input 0: a square of texture (values 40..120) bouncing over a
 * background texture (-120..-30). */
static void moving_square(input_t *frames, int count, uint32_t seed,
                          int vy, int vx) {
  const int64_t *shape = M(input0_shape);
  int rank = M(INPUT0_RANK);
  int64_t h = shape[rank - 3], w = shape[rank - 2], c = shape[rank - 1];
  int64_t images = (int64_t)IN_SIZE / (h * w * c), side = h < w ? h / 4 : w / 4;
  int64_t y = 0, x = 0, i, f, k, p, q;
  uint32_t state = seed;
  int *background = (int *)malloc(sizeof(int) * (size_t)(h * w * c));
  int *texture = (int *)malloc(sizeof(int) * (size_t)(side * side * c + 1));
  for (i = 0; i < h * w * c; ++i)
    background[i] = random_in(&state, -120, -30);
  for (i = 0; i < side * side * c; ++i)
    texture[i] = random_in(&state, 40, 120);
  y = random_in(&state, 0, (int)(h - side));
  x = random_in(&state, 0, (int)(w - side));
  for (f = 0; f < count; ++f) {
    input_t *frame = frames + (size_t)f * IN_SIZE;
    for (k = 0; k < images; ++k)
      for (p = 0; p < h; ++p)
        for (q = 0; q < w; ++q)
          for (i = 0; i < c; ++i) {
            int inside = p >= y && p < y + side && q >= x && q < x + side;
            int v = inside ? texture[((p - y) * side + (q - x)) * c + i]
                           : background[(p * w + q) * c + i];
            frame[((k * h + p) * w + q) * c + i] = (input_t)v;
          }
    if (y + vy < 0 || y + vy > h - side)
      vy = -vy;
    if (x + vx < 0 || x + vx > w - side)
      vx = -vx;
    y += vy;
    x += vx;
  }
  free(background);
  free(texture);
}

/* What one frame of one stream did, summed over the residualized layers. */
typedef struct {
  int keyframe;
  int64_t skipped, blocks, macs;
} frame_summary;

static frame_summary summarize(const M(stream) * stream) {
  frame_summary s = {0, 0, 0, 0};
  stats_t stats;
  int layer;
  s.keyframe = M(last_frame_was_keyframe)(stream);
  for (layer = 0; layer < NUM_LAYERS; ++layer) {
    if (M(layer_stats)(stream, layer, &stats) != 0)
      continue;
    s.skipped += stats.bits[0];
    s.blocks += stats.blocks;
    s.macs += stats.macs;
  }
  return s;
}

static void write_stats(FILE *file, int frame, const M(stream) * stream) {
  stats_t s;
  int layer, b;
  for (layer = 0; layer < NUM_LAYERS; ++layer) {
    if (M(layer_stats)(stream, layer, &s) != 0)
      continue;
    fprintf(file,
            "{\"frame\": %d, \"layer\": \"%s\", \"keyframe\": %s, "
            "\"scene_cut\": %s, \"bits\": {",
            frame, M(layer_names)[layer], s.keyframe ? "true" : "false",
            s.scene_cut ? "true" : "false");
    for (b = 0; b < (int)(sizeof s.bits / sizeof s.bits[0]); ++b)
      fprintf(file, "%s\"%d\": %lld", b ? ", " : "", b, (long long)s.bits[b]);
    fprintf(file,
            "}, \"blocks\": %lld, \"macs\": %lld, \"bops\": %lld, "
            "\"frames_processed\": %lld}\n",
            (long long)s.blocks, (long long)s.macs, (long long)s.bops,
            (long long)s.frames_processed);
  }
}

/* Runs `frames` through `stream` alone; outputs and summaries per frame. */
static void run_alone(M(stream) * stream, const input_t *frames, int count,
                      int keyframe_at, output_t *outputs,
                      frame_summary *summaries) {
  int f;
  for (f = 0; f < count; ++f) {
    if (f == keyframe_at)
      M(force_keyframe)(stream);
    M(step)(stream, frames + (size_t)f * IN_SIZE, outputs + (size_t)f * OUT_SIZE);
    summaries[f] = summarize(stream);
  }
}

static int same_run(const char *what, const output_t *outputs,
                    const output_t *expected, const frame_summary *summaries,
                    const frame_summary *expected_summaries, int count) {
  int f;
  for (f = 0; f < count; ++f) {
    if (memcmp(outputs + (size_t)f * OUT_SIZE,
               expected + (size_t)f * OUT_SIZE,
               OUT_SIZE * sizeof(output_t)) != 0) {
      printf("MISMATCH: %s: frame %d outputs differ\n", what, f);
      return 0;
    }
    if (summaries[f].keyframe != expected_summaries[f].keyframe ||
        summaries[f].skipped != expected_summaries[f].skipped ||
        summaries[f].blocks != expected_summaries[f].blocks ||
        summaries[f].macs != expected_summaries[f].macs) {
      printf("MISMATCH: %s: frame %d statistics differ\n", what, f);
      return 0;
    }
  }
  return 1;
}

static void *allocate(size_t bytes) {
  void *p = calloc(bytes ? bytes : 1, 1);
  if (!p) {
    fprintf(stderr, "stream_demo: out of memory\n");
    exit(2);
  }
  return p;
}

int main(int argc, char **argv) {
  int count = 30, keyframe_at = -1, quiet = 0, f, ok = 1, i;
  const char *input_path = NULL, *output_path = NULL, *stats_path = NULL;
  input_t *a, *b;
  output_t *out_a, *out_b, *alone_a, *alone_b;
  frame_summary *sum_a, *sum_b, *alone_sum_a, *alone_sum_b;
  M(stream) *sa, *sb;
  FILE *stats_file = NULL;

  for (i = 1; i < argc; ++i) {
    if (!strcmp(argv[i], "--frames") && i + 1 < argc)
      count = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--keyframe-at") && i + 1 < argc)
      keyframe_at = atoi(argv[++i]);
    else if (!strcmp(argv[i], "--input") && i + 1 < argc)
      input_path = argv[++i];
    else if (!strcmp(argv[i], "--output") && i + 1 < argc)
      output_path = argv[++i];
    else if (!strcmp(argv[i], "--stats") && i + 1 < argc)
      stats_path = argv[++i];
    else if (!strcmp(argv[i], "--quiet"))
      quiet = 1;
    else {
      fprintf(stderr,
              "usage: %s [--frames N] [--keyframe-at F] [--input FILE] "
              "[--output FILE] [--stats FILE] [--quiet]\n",
              argv[0]);
      return 2;
    }
  }

  if (input_path) {
    FILE *file = fopen(input_path, "rb");
    long bytes;
    if (!file || fseek(file, 0, SEEK_END) != 0 || (bytes = ftell(file)) < 0) {
      fprintf(stderr, "stream_demo: cannot read %s\n", input_path);
      return 2;
    }
    rewind(file);
    count = (int)((size_t)bytes / (IN_SIZE * sizeof(input_t)));
    a = (input_t *)allocate((size_t)count * IN_SIZE * sizeof(input_t));
    if (fread(a, IN_SIZE * sizeof(input_t), (size_t)count, file) !=
        (size_t)count) {
      fprintf(stderr, "stream_demo: short read from %s\n", input_path);
      return 2;
    }
    fclose(file);
    b = (input_t *)allocate((size_t)count * IN_SIZE * sizeof(input_t));
    for (f = 0; f < count; ++f)
      memcpy(b + (size_t)f * IN_SIZE, a + (size_t)(count - 1 - f) * IN_SIZE,
             IN_SIZE * sizeof(input_t));
  } else {
    a = (input_t *)allocate((size_t)count * IN_SIZE * sizeof(input_t));
    b = (input_t *)allocate((size_t)count * IN_SIZE * sizeof(input_t));
    moving_square(a, count, 2023u, 1, 2);
    moving_square(b, count, 31u, 2, -1);
  }
  if (count < 1) {
    fprintf(stderr, "stream_demo: no frames\n");
    return 2;
  }

  out_a = (output_t *)allocate((size_t)count * OUT_SIZE * sizeof(output_t));
  out_b = (output_t *)allocate((size_t)count * OUT_SIZE * sizeof(output_t));
  alone_a = (output_t *)allocate((size_t)count * OUT_SIZE * sizeof(output_t));
  alone_b = (output_t *)allocate((size_t)count * OUT_SIZE * sizeof(output_t));
  sum_a = (frame_summary *)allocate((size_t)count * sizeof(frame_summary));
  sum_b = (frame_summary *)allocate((size_t)count * sizeof(frame_summary));
  alone_sum_a = (frame_summary *)allocate((size_t)count * sizeof(frame_summary));
  alone_sum_b = (frame_summary *)allocate((size_t)count * sizeof(frame_summary));
  if (stats_path && !(stats_file = fopen(stats_path, "w"))) {
    fprintf(stderr, "stream_demo: cannot write %s\n", stats_path);
    return 2;
  }

  if (!quiet)
    printf("model %s: %d residualized layers, %d-byte stream state, "
           "target %s\n",
           STR(MODEL), NUM_LAYERS, (int)M(STATE_SIZE), M(TARGET_CPU));

  /* Two streams, interleaved: A0 B0 A1 B1 ... */
  sa = M(stream_create)();
  sb = M(stream_create)();
  if (!sa || !sb) {
    fprintf(stderr, "stream_demo: cannot create the streams\n");
    return 2;
  }
  for (f = 0; f < count; ++f) {
    if (f == keyframe_at) {
      M(force_keyframe)(sa);
      M(force_keyframe)(sb);
    }
    if (M(step)(sa, a + (size_t)f * IN_SIZE, out_a + (size_t)f * OUT_SIZE) ||
        M(step)(sb, b + (size_t)f * IN_SIZE, out_b + (size_t)f * OUT_SIZE)) {
      fprintf(stderr, "stream_demo: step failed\n");
      return 2;
    }
    sum_a[f] = summarize(sa);
    sum_b[f] = summarize(sb);
    if (stats_file)
      write_stats(stats_file, f, sa);
    if (!quiet)
      printf("frame %3d  A: keyframe %d skipped %.3f  "
             "B: keyframe %d skipped %.3f\n",
             f, sum_a[f].keyframe,
             sum_a[f].blocks ? (double)sum_a[f].skipped / (double)sum_a[f].blocks
                             : 0.0,
             sum_b[f].keyframe,
             sum_b[f].blocks ? (double)sum_b[f].skipped / (double)sum_b[f].blocks
                             : 0.0);
  }
  if (M(frames_processed)(sa) != count || M(frames_processed)(sb) != count) {
    printf("MISMATCH: frames processed %lld and %lld, expected %d\n",
           (long long)M(frames_processed)(sa),
           (long long)M(frames_processed)(sb), count);
    ok = 0;
  }

  /* Each alone: A on a fresh stream, B on A's stream after a reset. */
  M(stream_destroy)(sb);
  {
    M(stream) *fresh = M(stream_create)();
    run_alone(fresh, a, count, keyframe_at, alone_a, alone_sum_a);
    ok &= same_run("stream A interleaved vs alone", out_a, alone_a, sum_a,
                   alone_sum_a, count);
    M(stream_destroy)(fresh);
  }
  M(stream_reset)(sa);
  run_alone(sa, b, count, keyframe_at, alone_b, alone_sum_b);
  ok &= same_run("stream B interleaved vs alone after a reset", out_b,
                 alone_b, sum_b, alone_sum_b, count);
  M(stream_destroy)(sa);

  if (output_path) {
    FILE *file = fopen(output_path, "wb");
    if (!file || fwrite(out_a, OUT_SIZE * sizeof(output_t), (size_t)count,
                        file) != (size_t)count) {
      fprintf(stderr, "stream_demo: cannot write %s\n", output_path);
      return 2;
    }
    fclose(file);
  }
  if (stats_file)
    fclose(stats_file);

  {
    int64_t skipped = 0, blocks = 0, keyframes = 0;
    for (f = 0; f < count; ++f) {
      skipped += sum_a[f].skipped + sum_b[f].skipped;
      blocks += sum_a[f].blocks + sum_b[f].blocks;
      keyframes += sum_a[f].keyframe + sum_b[f].keyframe;
    }
    printf("%s: 2 streams x %d frames, %lld keyframes, %.3f of the blocks "
           "skipped; interleaved %s alone\n",
           ok ? "OK" : "FAILED", count, (long long)keyframes,
           blocks ? (double)skipped / (double)blocks : 0.0, ok ? "==" : "!=");
  }
  free(a);
  free(b);
  free(out_a);
  free(out_b);
  free(alone_a);
  free(alone_b);
  free(sum_a);
  free(sum_b);
  free(alone_sum_a);
  free(alone_sum_b);
  return ok ? 0 : 1;
}
