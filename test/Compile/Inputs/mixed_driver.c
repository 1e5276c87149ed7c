/* Runs the stateless model `mixed` (Inputs/mixed.mlir: an int8 and a float
 * input, an int8 and a float output) over raw frame files and writes the
 * outputs; checks that the inputs are left untouched.
 *
 *   mixed_driver X.raw Y.raw OUT_PREFIX    writes OUT_PREFIX0.raw, 1.raw
 */
#include "mixed.h"

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
  static mixed_input0_t x[mixed_INPUT0_SIZE], x_copy[mixed_INPUT0_SIZE];
  static mixed_input1_t y[mixed_INPUT1_SIZE], y_copy[mixed_INPUT1_SIZE];
  static mixed_output0_t out0[mixed_OUTPUT0_SIZE];
  static mixed_output1_t out1[mixed_OUTPUT1_SIZE];
  char path[4096];
  FILE *fx, *fy, *f0, *f1;
  int frames = 0;
  if (argc != 4)
    return 2;
  fx = fopen(argv[1], "rb");
  fy = fopen(argv[2], "rb");
  snprintf(path, sizeof path, "%s0.raw", argv[3]);
  f0 = fopen(path, "wb");
  snprintf(path, sizeof path, "%s1.raw", argv[3]);
  f1 = fopen(path, "wb");
  if (!fx || !fy || !f0 || !f1)
    return 2;
  while (fread(x, sizeof x, 1, fx) == 1 && fread(y, sizeof y, 1, fy) == 1) {
    memcpy(x_copy, x, sizeof x);
    memcpy(y_copy, y, sizeof y);
    if (mixed_step(NULL, x, y, out0, out1) != 0)
      return 1;
    if (memcmp(x, x_copy, sizeof x) || memcmp(y, y_copy, sizeof y)) {
      printf("the step function wrote into its inputs\n");
      return 1;
    }
    fwrite(out0, sizeof out0, 1, f0);
    fwrite(out1, sizeof out1, 1, f1);
    ++frames;
  }
  fclose(fx);
  fclose(fy);
  fclose(f0);
  fclose(f1);
  printf("mixed: %d frames, inputs %s and %s, outputs %s and %s\n", frames,
         mixed_input_dtypes[0], mixed_input_dtypes[1], mixed_output_dtypes[0],
         mixed_output_dtypes[1]);
  return 0;
}
