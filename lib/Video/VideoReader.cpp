//===- VideoReader.cpp - decode a video file with FFmpeg's libav* ---------===//
//
// The usual libavformat/libavcodec loop: read packets of the chosen stream,
// send them to the decoder, receive frames; at the end of the file, send an
// empty packet to drain the frames the decoder still holds. swscale turns each
// frame into packed RGB at the frame's own size.
//
//===----------------------------------------------------------------------===//

#include "resq/Video/VideoReader.h"

extern "C" {
#include <libavcodec/avcodec.h>
#include <libavformat/avformat.h>
#include <libavutil/log.h>
#include <libavutil/pixdesc.h>
#include <libswscale/swscale.h>
}

using namespace resq::video;

namespace {

std::string avErrorText(int code) {
  char text[AV_ERROR_MAX_STRING_SIZE] = {};
  av_strerror(code, text, sizeof(text));
  return text;
}

/// The deprecated full-range "J" formats as their plain counterparts: the
/// range is passed to swscale explicitly (swscale warns about the J formats).
AVPixelFormat withoutJpegRange(AVPixelFormat format) {
  switch (format) {
  case AV_PIX_FMT_YUVJ420P:
    return AV_PIX_FMT_YUV420P;
  case AV_PIX_FMT_YUVJ422P:
    return AV_PIX_FMT_YUV422P;
  case AV_PIX_FMT_YUVJ444P:
    return AV_PIX_FMT_YUV444P;
  case AV_PIX_FMT_YUVJ440P:
    return AV_PIX_FMT_YUV440P;
  case AV_PIX_FMT_YUVJ411P:
    return AV_PIX_FMT_YUV411P;
  default:
    return format;
  }
}

bool isJpegRangeFormat(AVPixelFormat format) {
  return withoutJpegRange(format) != format;
}

} // namespace

struct VideoReader::Impl {
  AVFormatContext *format = nullptr;
  AVCodecContext *codec = nullptr;
  AVPacket *packet = nullptr;
  AVFrame *frame = nullptr;
  SwsContext *sws = nullptr;
  AVStream *stream = nullptr;
  int streamIndex = -1;
  int64_t nextIndex = 0;
  /// The demuxer reached the end: the decoder got its drain packet.
  bool draining = false;

  ~Impl() {
    sws_freeContext(sws);
    av_frame_free(&frame);
    av_packet_free(&packet);
    avcodec_free_context(&codec);
    avformat_close_input(&format);
  }

  llvm::Error toRgb(RgbImage &image);
};

VideoReader::VideoReader() : impl(std::make_unique<Impl>()) {}
VideoReader::~VideoReader() = default;

llvm::Expected<std::unique_ptr<VideoReader>>
VideoReader::open(llvm::StringRef path) {
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(path + ": " + why);
  };
  // FFmpeg prints notices about the streams it probes; keep only errors,
  // unless someone already chose a level.
  if (av_log_get_level() == AV_LOG_INFO)
    av_log_set_level(AV_LOG_ERROR);

  std::unique_ptr<VideoReader> reader(new VideoReader());
  reader->filePath = path.str();
  Impl &d = *reader->impl;
  if (int r = avformat_open_input(&d.format, reader->filePath.c_str(), nullptr,
                                  nullptr);
      r < 0)
    return fail("cannot open the video: " + avErrorText(r));
  if (int r = avformat_find_stream_info(d.format, nullptr); r < 0)
    return fail("cannot read the stream information: " + avErrorText(r));
  const AVCodec *decoder = nullptr;
  d.streamIndex =
      av_find_best_stream(d.format, AVMEDIA_TYPE_VIDEO, -1, -1, &decoder, 0);
  if (d.streamIndex == AVERROR_STREAM_NOT_FOUND)
    return fail("no video stream");
  if (d.streamIndex < 0 || !decoder)
    return fail("no decoder for the video stream" +
                (d.streamIndex < 0 ? ": " + avErrorText(d.streamIndex)
                                   : std::string()));
  d.stream = d.format->streams[d.streamIndex];
  // Only the chosen stream's packets matter.
  for (unsigned i = 0; i < d.format->nb_streams; ++i)
    if (int(i) != d.streamIndex)
      d.format->streams[i]->discard = AVDISCARD_ALL;

  d.codec = avcodec_alloc_context3(decoder);
  if (!d.codec)
    return fail("out of memory");
  if (int r = avcodec_parameters_to_context(d.codec, d.stream->codecpar); r < 0)
    return fail("cannot set up the " + llvm::Twine(decoder->name) +
                " decoder: " + avErrorText(r));
  // One decoding thread: the runner times the models, and decoder threads
  // would compete with them for the cores.
  d.codec->thread_count = 1;
  if (int r = avcodec_open2(d.codec, decoder, nullptr); r < 0)
    return fail("cannot open the " + llvm::Twine(decoder->name) +
                " decoder: " + avErrorText(r));
  if (d.codec->width <= 0 || d.codec->height <= 0)
    return fail("the video stream has no frame size");
  d.packet = av_packet_alloc();
  d.frame = av_frame_alloc();
  if (!d.packet || !d.frame)
    return fail("out of memory");
  return std::move(reader);
}

int VideoReader::width() const { return impl->codec->width; }
int VideoReader::height() const { return impl->codec->height; }
llvm::StringRef VideoReader::codecName() const {
  // The codec's name, not the decoder's ("msmpeg4v3", not "msmpeg4").
  return avcodec_get_name(impl->codec->codec_id);
}

std::optional<double> VideoReader::frameRate() const {
  AVRational rate = impl->stream->avg_frame_rate;
  if (rate.num <= 0 || rate.den <= 0)
    rate = impl->stream->r_frame_rate;
  if (rate.num <= 0 || rate.den <= 0)
    return std::nullopt;
  return av_q2d(rate);
}

std::optional<int64_t> VideoReader::frameCount() const {
  if (impl->stream->nb_frames > 0)
    return impl->stream->nb_frames;
  return std::nullopt;
}

llvm::Error VideoReader::Impl::toRgb(RgbImage &image) {
  auto source = AVPixelFormat(frame->format);
  int srcFullRange =
      frame->color_range == AVCOL_RANGE_JPEG || isJpegRangeFormat(source);
  source = withoutJpegRange(source);
  // SWS_FULL_CHR_H_INT: interpolate chroma to full resolution before
  // converting to RGB, instead of nearest chroma per pixel pair.
  sws = sws_getCachedContext(
      sws, frame->width, frame->height, source, frame->width, frame->height,
      AV_PIX_FMT_RGB24, SWS_BILINEAR | SWS_ACCURATE_RND | SWS_FULL_CHR_H_INT,
      nullptr, nullptr, nullptr);
  if (!sws) {
    const char *name = av_get_pix_fmt_name(source);
    return llvm::createStringError("cannot convert the pixel format " +
                                   llvm::Twine(name ? name : "unknown") +
                                   " to RGB");
  }
  // YUV sources: the colour matrix the stream declares (BT.601 when it
  // declares none), its range, and full-range RGB out.
  int colorspace = frame->colorspace == AVCOL_SPC_UNSPECIFIED
                       ? SWS_CS_DEFAULT
                       : int(frame->colorspace);
  const int *coefficients = sws_getCoefficients(colorspace);
  sws_setColorspaceDetails(sws, coefficients, srcFullRange,
                           sws_getCoefficients(SWS_CS_DEFAULT),
                           /*dstRange=*/1, /*brightness=*/0,
                           /*contrast=*/1 << 16, /*saturation=*/1 << 16);
  image = RgbImage(frame->width, frame->height);
  uint8_t *dst[4] = {image.pixels.data(), nullptr, nullptr, nullptr};
  int dstStride[4] = {image.width * 3, 0, 0, 0};
  sws_scale(sws, frame->data, frame->linesize, 0, frame->height, dst,
            dstStride);
  return llvm::Error::success();
}

llvm::Expected<bool> VideoReader::next(Frame &out) {
  Impl &d = *impl;
  auto fail = [&](const llvm::Twine &why) {
    return llvm::createStringError(filePath + ": frame " +
                                   llvm::Twine(d.nextIndex) + ": " + why);
  };
  while (true) {
    int r = avcodec_receive_frame(d.codec, d.frame);
    if (r == 0) {
      out.index = d.nextIndex++;
      out.seconds.reset();
      if (d.frame->best_effort_timestamp != AV_NOPTS_VALUE)
        out.seconds = double(d.frame->best_effort_timestamp) *
                      av_q2d(d.stream->time_base);
      llvm::Error error = d.toRgb(out.image);
      av_frame_unref(d.frame);
      if (error)
        return fail(llvm::toString(std::move(error)));
      return true;
    }
    if (r == AVERROR_EOF)
      return false;
    if (r != AVERROR(EAGAIN))
      return fail("cannot decode: " + avErrorText(r));
    if (d.draining) // cannot happen: a draining decoder ends with EOF
      return false;

    // The decoder wants input.
    r = av_read_frame(d.format, d.packet);
    if (r == AVERROR_EOF) {
      d.draining = true;
      avcodec_send_packet(d.codec, nullptr);
      continue;
    }
    if (r < 0)
      return fail("cannot read: " + avErrorText(r));
    if (d.packet->stream_index == d.streamIndex) {
      r = avcodec_send_packet(d.codec, d.packet);
      // A damaged packet loses its frame, as in any player; other errors
      // end the decoding.
      if (r < 0 && r != AVERROR(EAGAIN) && r != AVERROR_INVALIDDATA) {
        av_packet_unref(d.packet);
        return fail("cannot decode: " + avErrorText(r));
      }
    }
    av_packet_unref(d.packet);
  }
}
