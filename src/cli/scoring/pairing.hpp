// Pairing the images of two folders by name, tolerating the suffixes SR
// data sets use (baby_HR_x2.png <-> baby_LRBI_x2.png, img_001_SRF_4_HR.png
// <-> img_001_SRF_4_LR.png).
#pragma once

#include <string>
#include <vector>

namespace fdiwn::cli {

struct ImagePair {
  std::string name;   ///< the shared key ("baby")
  std::string hr;     ///< the reference image
  std::string other;  ///< the LR or SR image; empty when there is no second folder
};

/// "baby_HR_x2" -> "baby", "img_001_SRF_4_LR" -> "img_001", "bird" -> "bird".
std::string pairing_key(const std::string& stem);

/// Image files of a folder (by extension, not recursive, sorted). Throws
/// InvalidArgument if it is not a folder.
std::vector<std::string> list_images(const std::string& dir);

/// Pairs every image of `hr_dir` with the image of `other_dir` that has the
/// same key (or with nothing when `other_dir` is empty). An HR image without
/// a partner is returned with `other` empty: that image's failure, the
/// others are scored. Throws InvalidArgument (naming the files) if two
/// images of one folder share a key. Partners without an HR image are
/// returned in `unmatched`.
std::vector<ImagePair> pair_images(const std::string& hr_dir, const std::string& other_dir,
                                   std::vector<std::string>* unmatched = nullptr);

/// Replaces "{scale}" in a folder argument (data sets keep one folder per
/// scale: --lr Set5/LR/x{scale}).
std::string with_scale(const std::string& pattern, int scale);

}  // namespace fdiwn::cli
