//===- Image.cpp - PNG output ---------------------------------------------===//

#include "resq/Video/Image.h"

#include <png.h>

#include <cstring>
#include <string>

using namespace resq::video;

llvm::Error resq::video::writePng(llvm::StringRef path, const RgbImage &image) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(path + ": cannot write the PNG: " + why);
  };
  if (image.empty() ||
      image.pixels.size() != size_t(image.width) * image.height * 3)
    return fail("the image is empty or inconsistent");
  // libpng's simplified API: one call, errors reported in `png.message`.
  png_image png;
  std::memset(&png, 0, sizeof(png));
  png.version = PNG_IMAGE_VERSION;
  png.width = png_uint_32(image.width);
  png.height = png_uint_32(image.height);
  png.format = PNG_FORMAT_RGB;
  std::string file = path.str();
  int ok = png_image_write_to_file(&png, file.c_str(), /*convert_to_8bit=*/0,
                                   image.pixels.data(),
                                   /*row_stride=*/image.width * 3,
                                   /*colormap=*/nullptr);
  if (!ok) {
    std::string message = png.message;
    png_image_free(&png);
    return fail(message);
  }
  return llvm::Error::success();
}
