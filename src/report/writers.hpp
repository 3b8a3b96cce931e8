// The factories of the built-in report writers, one file each.
#pragma once

#include <memory>

#include "ccopy/report.hpp"

namespace ccopy::report {

std::unique_ptr<ReportWriter> make_console_writer();
std::unique_ptr<ReportWriter> make_json_writer();
std::unique_ptr<ReportWriter> make_csv_writer();
std::unique_ptr<ReportWriter> make_markdown_writer();
std::unique_ptr<ReportWriter> make_svg_writer();

}  // namespace ccopy::report
