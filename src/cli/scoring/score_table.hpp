// The summary of a scoring run in the shape of the paper's table: a row per
// scale and method, a column per test set, each cell the mean PSNR / SSIM,
// the best method of each scale and set marked.
#pragma once

#include <vector>

#include "cli/report/table.hpp"
#include "cli/scoring/score_report.hpp"

namespace fdiwn::cli {

/// Rows: scales in increasing order, then methods in the order they first
/// appear in `sets`; columns: sets in that order. Per scale and set, the
/// highest PSNR and the highest SSIM (as printed, so ties are all marked)
/// are marked best when more than one method was scored there. A mean that
/// lacks images (some failed or were missing) is shown with a footnote mark
/// and is never marked best: it is not comparable. `psnr_digits` decimals
/// for PSNR, 4 for SSIM.
Table score_table(const std::vector<ScoreSet>& sets, int psnr_digits);

/// The digits each format prints PSNR with: 4 in text (as the per-image
/// rows), 2 in Markdown and LaTeX (as papers print it).
int psnr_digits_for(TableFormat format);

}  // namespace fdiwn::cli
