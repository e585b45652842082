// A program using the installed library, as a user's would: upscales the
// image argv[1] x2 into argv[2] through fdiwn::Upscaler with the installed
// weights (FDIWN_WEIGHTS_DIR, from the CMake package or pkg-config).
#include <cstdio>
#include <exception>

#include <fdiwn/image_io.hpp>
#include <fdiwn/upscaler.hpp>
#include <fdiwn/version.hpp>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::fprintf(stderr, "usage: %s IN OUT\n", argv[0]);
    return 2;
  }
  try {
    fdiwn::UpscalerOptions options;
    options.scale = 2;
    options.weights_path = FDIWN_WEIGHTS_DIR "/FDIWNx2.pt";
    fdiwn::Upscaler upscaler(options);
    const fdiwn::LoadedImage in = fdiwn::read_image(argv[1]);
    const cv::Mat out = upscaler.upscale(in.pixels);
    fdiwn::write_image(argv[2], out);
    std::printf("fdiwn %s (built against %s): %dx%d -> %dx%d\n", fdiwn::library_version(),
                FDIWN_VERSION_STRING, in.pixels.cols, in.pixels.rows, out.cols, out.rows);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "%s\n", e.what());
    return 1;
  }
  return 0;
}
