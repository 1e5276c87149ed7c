/* Three models compiled by resq-compile, linked into one program: the
 * static and dynamic residualizations of a net (stateful) and the plain
 * graph (stateless). Runs each over the frames of a raw file and writes
 * each one's outputs to PREFIX.<model>.raw.
 *
 *   two_models FRAMES.raw PREFIX
 */
#include "segnet_dynamic.h"
#include "segnet_plain.h"
#include "segnet_static.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if segnet_static_INPUT0_BYTES != segnet_plain_INPUT0_BYTES || \
    segnet_dynamic_INPUT0_BYTES != segnet_plain_INPUT0_BYTES
#error "the three models must share their input"
#endif

static FILE *open_output(const char *prefix, const char *model) {
  char path[4096];
  FILE *file;
  snprintf(path, sizeof path, "%s.%s.raw", prefix, model);
  file = fopen(path, "wb");
  if (!file) {
    fprintf(stderr, "two_models: cannot write %s\n", path);
    exit(2);
  }
  return file;
}

int main(int argc, char **argv) {
  static segnet_plain_input0_t frame[segnet_plain_INPUT0_SIZE];
  static segnet_static_output0_t out_static[segnet_static_OUTPUT0_SIZE];
  static segnet_dynamic_output0_t out_dynamic[segnet_dynamic_OUTPUT0_SIZE];
  static segnet_plain_output0_t out_plain[segnet_plain_OUTPUT0_SIZE];
  segnet_static_stream *s_static;
  segnet_dynamic_stream *s_dynamic;
  FILE *in, *f_static, *f_dynamic, *f_plain;
  int frames = 0, keyframes_static = 0, keyframes_dynamic = 0;
  long long processed;
  double skipped = 0;

  if (argc != 3) {
    fprintf(stderr, "usage: two_models FRAMES.raw PREFIX\n");
    return 2;
  }
  in = fopen(argv[1], "rb");
  if (!in) {
    fprintf(stderr, "two_models: cannot read %s\n", argv[1]);
    return 2;
  }
  f_static = open_output(argv[2], "static");
  f_dynamic = open_output(argv[2], "dynamic");
  f_plain = open_output(argv[2], "plain");
  s_static = segnet_static_stream_create();
  s_dynamic = segnet_dynamic_stream_create();
  if (!s_static || !s_dynamic)
    return 2;
  /* The plain model is stateless; its step rejects nothing but NULL
   * tensors. */
  if (segnet_plain_step(NULL, NULL, out_plain) != -1 ||
      segnet_static_step(NULL, frame, out_static) != -1) {
    fprintf(stderr, "two_models: a NULL pointer was not rejected\n");
    return 1;
  }

  while (fread(frame, sizeof frame, 1, in) == 1) {
    segnet_dynamic_stats stats;
    int layer;
    if (segnet_static_step(s_static, frame, out_static) ||
        segnet_dynamic_step(s_dynamic, frame, out_dynamic) ||
        segnet_plain_step(NULL, frame, out_plain))
      return 1;
    fwrite(out_static, sizeof out_static, 1, f_static);
    fwrite(out_dynamic, sizeof out_dynamic, 1, f_dynamic);
    fwrite(out_plain, sizeof out_plain, 1, f_plain);
    keyframes_static += segnet_static_last_frame_was_keyframe(s_static);
    keyframes_dynamic += segnet_dynamic_last_frame_was_keyframe(s_dynamic);
    for (layer = 0; layer < segnet_dynamic_NUM_LAYERS; ++layer) {
      if (segnet_dynamic_layer_stats(s_dynamic, layer, &stats) == 0)
        skipped += stats.skipped / segnet_dynamic_NUM_LAYERS;
    }
    ++frames;
  }
  fclose(in);
  fclose(f_static);
  fclose(f_dynamic);
  fclose(f_plain);
  processed = (long long)segnet_static_frames_processed(s_static);
  segnet_static_stream_destroy(s_static);
  segnet_dynamic_stream_destroy(s_dynamic);
  printf("two_models: %d frames; static: %d keyframes, %lld frames "
         "processed; dynamic: %d keyframes, mean skipped %.3f; plain: "
         "stateless\n",
         frames, keyframes_static, processed, keyframes_dynamic,
         frames ? skipped / frames : 0.0);
  return 0;
}
