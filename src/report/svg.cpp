// The SVG chart: a group of bars per scenario, a bar per engine at its median throughput, a
// whisker from the slowest to the fastest run, and the machine and file system in the title.
// Plain SVG 1.1 with generic font families, so that browsers and rsvg-convert draw it alike.
#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <ostream>

#include "ccopy/report.hpp"
#include "ccopy/size.hpp"
#include "report/writers.hpp"

namespace ccopy::report {
namespace {

// One colour per engine, in the order the engines ran (Tableau 10, readable on white).
constexpr const char* kPalette[] = {"#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2",
                                    "#edc948", "#b07aa1", "#ff9da7", "#9c755f", "#bab0ac"};
constexpr std::size_t kPaletteSize = sizeof kPalette / sizeof kPalette[0];

constexpr double kFontSize = 12;
constexpr double kTitleSize = 16;
constexpr double kMinWidth = 800;   // room for the title and context lines
constexpr double kMaxWidth = 1400;  // wider than a laptop screen is hard to read

// An estimate of a sans-serif text's width, used to keep labels apart: the average glyph of
// the common sans-serif fonts (DejaVu Sans, Liberation Sans, Arial) is at most about 0.58 em
// wide in this kind of text.
constexpr double kEm = 0.58;
double text_width(std::string_view text, double font_size) {
  return static_cast<double>(text.size()) * font_size * kEm;
}

std::string escape(std::string_view text) {
  std::string out;
  for (char c : text) {
    switch (c) {
      case '&':
        out += "&amp;";
        break;
      case '<':
        out += "&lt;";
        break;
      case '>':
        out += "&gt;";
        break;
      case '"':
        out += "&quot;";
        break;
      default:
        out += c;
    }
  }
  return out;
}

// Shortens `text` to fit `width` pixels, marking the cut with an ellipsis.
std::string fit(std::string text, double width, double font_size) {
  if (text_width(text, font_size) <= width) return text;
  const auto keep = static_cast<std::size_t>(std::max(0.0, width / (font_size * kEm) - 3));
  return text.substr(0, keep) + "...";
}

// Throughput figures of one engine in one scenario, in MiB/s; absent when it has no timings.
struct Bar {
  bool present = false;
  double median = 0, low = 0, high = 0;
};

Bar bar_of(const Scenario& scenario, const EngineResult& e) {
  Bar b;
  if (e.runs.empty() || scenario.total_bytes() == 0) return b;
  const Summary w = e.wall_seconds();
  if (w.min <= 0) return b;
  const double mib = static_cast<double>(scenario.total_bytes()) / (1024.0 * 1024.0);
  b = {true, mib / w.median, mib / w.max, mib / w.min};
  return b;
}

std::string number(double value) {
  if (value >= 1) return fmt::format("{:.0f}", value);
  return fmt::format("{:.3g}", value);
}

// Maps throughput to a vertical position: linear from zero, or logarithmic over whole
// decades, and chooses the ticks to label.
class Axis {
  static bool near(double a, double b) { return std::abs(a - b) <= 1e-9 * std::max(a, b); }
  // The largest 1, 2 or 5 times a power of ten not above `value`, and the smallest not below.
  static double nice_floor(double value) {
    const double decade = std::pow(10.0, std::floor(std::log10(value)));
    for (double m : {5.0, 2.0, 1.0})
      if (decade * m <= value * 1.0001) return decade * m;
    return decade;
  }
  static double nice_ceil(double value) {
    const double decade = std::pow(10.0, std::floor(std::log10(value)));
    for (double m : {1.0, 2.0, 5.0, 10.0})
      if (decade * m >= value / 1.0001) return decade * m;
    return decade * 10;
  }

 public:
  Axis(double lowest, double highest, bool log, double top, double bottom)
      : log_(log), top_(top), bottom_(bottom) {
    if (log_) {
      // The axis runs between "nice" numbers (1, 2 or 5 times a power of ten) around the data,
      // labelled at every decade, and at 2 and 5 times it when it spans at most three decades.
      // The floor sits a little below the slowest run, so that its bar keeps some height.
      low_ = nice_floor(lowest * 0.9);
      high_ = std::max(nice_ceil(highest), low_ * 2);
      const bool fine = std::log10(high_ / low_) <= 3.05;
      for (double decade = std::pow(10.0, std::floor(std::log10(low_))); decade <= high_ * 1.0001;
           decade *= 10) {
        for (double m : {1.0, 2.0, 5.0}) {
          const double tick = decade * m;
          const bool bound = near(tick, low_) || near(tick, high_);
          if (tick >= low_ / 1.0001 && tick <= high_ * 1.0001 && (m == 1.0 || fine || bound))
            ticks_.push_back(tick);
        }
      }
    } else {
      const double raw = std::max(highest, 1e-9) / 5;
      const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
      double step = magnitude * 10;
      for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
        if (magnitude * m >= raw) {
          step = magnitude * m;
          break;
        }
      }
      low_ = 0;
      high_ = std::ceil(highest / step) * step;
      for (int i = 0; i * step <= high_ * 1.0001; ++i) ticks_.push_back(i * step);
    }
  }

  [[nodiscard]] double y(double value) const {
    const double f = log_ ? std::log10(value / low_) / std::log10(high_ / low_)
                          : (value - low_) / (high_ - low_);
    return bottom_ - std::clamp(f, 0.0, 1.0) * (bottom_ - top_);
  }
  [[nodiscard]] const std::vector<double>& ticks() const { return ticks_; }
  [[nodiscard]] bool log() const { return log_; }

 private:
  bool log_;
  double top_, bottom_;
  double low_ = 0, high_ = 1;
  std::vector<double> ticks_;
};

class SvgWriter final : public ReportWriter {
 public:
  std::string_view format() const override { return "svg"; }

  void write(const BenchmarkResult& result, std::ostream& out) const override {
    const std::vector<EngineChoice>& engines = result.config.engines;
    const std::size_t groups = std::max<std::size_t>(result.scenarios.size(), 1);
    const std::size_t per_group = std::max<std::size_t>(engines.size(), 1);

    // Horizontal layout: each group gets room for its bars, and for its label when the chart
    // stays under kMaxWidth; past that the labels are slanted so that they cannot overlap.
    double label_width = 0;
    for (const ScenarioResult& s : result.scenarios)
      label_width = std::max(label_width, text_width(s.scenario.name(), kFontSize));
    const double min_bar = 12;
    const double bars_width = static_cast<double>(per_group) * min_bar + 24;
    const double left = 84, right = 24;
    const double wanted = static_cast<double>(groups) * std::max(bars_width, label_width + 16);
    const double width =
        std::max(kMinWidth, std::max(std::min(left + right + wanted, kMaxWidth),
                                     left + right + bars_width * static_cast<double>(groups)));
    const double plot_width = width - left - right;
    const double slot = plot_width / static_cast<double>(groups);
    const bool slanted_labels = label_width + 8 > slot;
    const double bar_width =
        std::clamp((slot - 24) * 0.7 / static_cast<double>(per_group), min_bar, 44.0);

    // Vertical layout: title, two lines of context, the legend, the plot, the labels, a note.
    const double top = 112;
    const double plot_height = 300;
    const double bottom = top + plot_height;
    const double label_room = slanted_labels ? label_width * 0.6 + 24 : 26;
    const double height = bottom + label_room + 48;

    std::vector<std::vector<Bar>> bars;
    double lowest = 0, highest = 0, lowest_median = 0, highest_median = 0;
    for (const ScenarioResult& s : result.scenarios) {
      std::vector<Bar>& row = bars.emplace_back();
      for (const EngineResult& e : s.engines) {
        const Bar b = row.emplace_back(bar_of(s.scenario, e));
        if (!b.present) continue;
        const bool first = highest == 0;
        lowest = first ? b.low : std::min(lowest, b.low);
        highest = first ? b.high : std::max(highest, b.high);
        lowest_median = first ? b.median : std::min(lowest_median, b.median);
        highest_median = first ? b.median : std::max(highest_median, b.median);
      }
    }
    const bool any = highest > 0;
    const bool log = any && highest_median > 10 * lowest_median;
    const Axis axis(any ? lowest : 1, any ? highest : 1, log, top, bottom);

    out << fmt::format(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{0:.0f}\" height=\"{1:.0f}\" "
        "viewBox=\"0 0 {0:.0f} {1:.0f}\" font-family=\"sans-serif\" font-size=\"{2:.0f}\">\n"
        "<rect x=\"0\" y=\"0\" width=\"{0:.0f}\" height=\"{1:.0f}\" fill=\"#ffffff\"/>\n",
        width, height, kFontSize);
    write_title(result, width, out);
    write_legend(engines, left, out);
    write_axis(axis, left, width - right, top, bottom, out);
    for (std::size_t g = 0; g < result.scenarios.size(); ++g) {
      const ScenarioResult& s = result.scenarios[g];
      const double center = left + slot * (static_cast<double>(g) + 0.5);
      const double first_x = center - bar_width * static_cast<double>(s.engines.size()) / 2;
      for (std::size_t e = 0; e < s.engines.size(); ++e)
        write_bar(s, s.engines[e], bars[g][e], kPalette[e % kPaletteSize],
                  first_x + bar_width * static_cast<double>(e), bar_width, axis, bottom, out);
      write_group_label(s.scenario.name(), center, bottom, slanted_labels, out);
    }
    if (!any)
      out << fmt::format(
          "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"#666666\">"
          "no timed runs to show</text>\n",
          left + plot_width / 2, (top + bottom) / 2);
    const std::string method = fmt::format(
        "Bars: median of {} timed run{} per engine; whiskers: slowest to fastest run; "
        "MiB/s = 2^20 bytes per second.",
        result.config.runs, result.config.runs == 1 ? "" : "s");
    const std::string origin =
        fmt::format("concurrent_copy {} (commit {}, {} build), {}", result.context.version,
                    result.context.git_commit, result.context.build_type, result.context.date);
    out << fmt::format("<text x=\"24\" y=\"{:.1f}\" font-size=\"11\" fill=\"#555555\">{}</text>\n",
                       height - 26, escape(fit(method, width - 48, 11)));
    out << fmt::format("<text x=\"24\" y=\"{:.1f}\" font-size=\"11\" fill=\"#555555\">{}</text>\n",
                       height - 10, escape(fit(origin, width - 48, 11)));
    out << "</svg>\n";
  }

 private:
  static void write_title(const BenchmarkResult& result, double width, std::ostream& out) {
    const RunContext& x = result.context;
    const BenchmarkConfig& c = result.config;
    const std::string title =
        result.scenarios.size() == 1
            ? fmt::format("Copy throughput: {} ({})", result.scenarios.front().scenario.name(),
                          format_bytes(result.scenarios.front().scenario.total_bytes()))
            : fmt::format("Copy throughput across {} scenarios", result.scenarios.size());
    const std::string machine =
        fmt::format("{} CPU{} ({}), {}, {} memory", x.cpus, x.cpus == 1 ? "" : "s", x.cpu_model,
                    x.kernel, format_bytes(x.memory_bytes));
    const std::string conditions = fmt::format(
        "{} ({}), page cache {}, {}; {} timed run{} after {} warm-up{} per engine, interleaved",
        x.directory, x.filesystem, x.cold_cache ? "cold" : "warm",
        c.options.fsync ? "fdatasync before close" : "no fsync", c.runs, c.runs == 1 ? "" : "s",
        c.warmup, c.warmup == 1 ? "" : "s");
    const double room = width - 48;
    out << fmt::format(
        "<text x=\"24\" y=\"32\" font-size=\"{:.0f}\" font-weight=\"bold\" "
        "fill=\"#222222\">{}</text>\n",
        kTitleSize, escape(fit(title, room, kTitleSize)));
    out << fmt::format("<text x=\"24\" y=\"54\" fill=\"#444444\">{}</text>\n",
                       escape(fit(machine, room, kFontSize)));
    out << fmt::format("<text x=\"24\" y=\"72\" fill=\"#444444\">{}</text>\n",
                       escape(fit(conditions, room, kFontSize)));
  }

  static void write_legend(const std::vector<EngineChoice>& engines, double left,
                           std::ostream& out) {
    double x = left;
    for (std::size_t e = 0; e < engines.size(); ++e) {
      out << fmt::format("<rect x=\"{:.1f}\" y=\"84\" width=\"12\" height=\"12\" fill=\"{}\"/>\n",
                         x, kPalette[e % kPaletteSize]);
      out << fmt::format("<text x=\"{:.1f}\" y=\"94.5\" fill=\"#222222\">{}</text>\n", x + 17,
                         escape(engines[e].label));
      x += 17 + text_width(engines[e].label, kFontSize) + 22;
    }
  }

  static void write_axis(const Axis& axis, double left, double right, double top, double bottom,
                         std::ostream& out) {
    for (double tick : axis.ticks()) {
      const double y = axis.y(tick);
      out << fmt::format(
          "<line x1=\"{:.1f}\" y1=\"{:.1f}\" x2=\"{:.1f}\" y2=\"{:.1f}\" stroke=\"#dddddd\" "
          "stroke-width=\"1\"/>\n",
          left, y, right, y);
      out << fmt::format(
          "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"end\" fill=\"#333333\">{}</text>\n",
          left - 6, y + 4, number(tick));
    }
    out << fmt::format(
        "<line x1=\"{0:.1f}\" y1=\"{1:.1f}\" x2=\"{0:.1f}\" y2=\"{2:.1f}\" stroke=\"#333333\"/>\n"
        "<line x1=\"{0:.1f}\" y1=\"{2:.1f}\" x2=\"{3:.1f}\" y2=\"{2:.1f}\" stroke=\"#333333\"/>\n",
        left, top, bottom, right);
    const double middle = (top + bottom) / 2;
    out << fmt::format(
        "<text x=\"20\" y=\"{0:.1f}\" text-anchor=\"middle\" fill=\"#222222\" "
        "transform=\"rotate(-90 20 {0:.1f})\">Throughput, MiB/s{1}</text>\n",
        middle, axis.log() ? " (log scale)" : "");
  }

  static void write_bar(const ScenarioResult& s, const EngineResult& e, const Bar& b,
                        const char* colour, double x, double width, const Axis& axis, double bottom,
                        std::ostream& out) {
    const double inner = width - 4;
    const double center = x + width / 2;
    if (!b.present) {
      out << fmt::format(
          "<text x=\"{0:.1f}\" y=\"{1:.1f}\" font-size=\"10\" text-anchor=\"start\" "
          "fill=\"#999999\" "
          "transform=\"rotate(-90 {0:.1f} {1:.1f})\">{2}</text>\n",
          center + 3.5, bottom - 4, e.error ? "failed" : "n/a");
      return;
    }
    const double y = axis.y(b.median);
    out << fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"{}\">"
        "<title>{} {}: median {:.1f} MiB/s (min {:.1f}, max {:.1f})</title></rect>\n",
        x + 2, y, inner, std::max(0.0, bottom - y), colour, escape(e.choice.label),
        escape(s.scenario.name()), b.median, b.low, b.high);
    const double y_low = axis.y(b.low), y_high = axis.y(b.high);
    const double cap = std::min(8.0, inner / 2);
    out << fmt::format(
        "<path d=\"M{0:.1f} {1:.1f}V{2:.1f}M{3:.1f} {1:.1f}H{4:.1f}M{3:.1f} {2:.1f}H{4:.1f}\" "
        "stroke=\"#222222\" stroke-width=\"1.2\" fill=\"none\"/>\n",
        center, y_low, y_high, center - cap / 2, center + cap / 2);
  }

  static void write_group_label(const std::string& name, double center, double bottom, bool slanted,
                                std::ostream& out) {
    if (!slanted) {
      out << fmt::format(
          "<text x=\"{:.1f}\" y=\"{:.1f}\" text-anchor=\"middle\" fill=\"#222222\">{}</text>\n",
          center, bottom + 18, escape(name));
      return;
    }
    out << fmt::format(
        "<text x=\"{0:.1f}\" y=\"{1:.1f}\" text-anchor=\"end\" fill=\"#222222\" "
        "transform=\"rotate(-40 {0:.1f} {1:.1f})\">{2}</text>\n",
        center + 4, bottom + 14, escape(name));
  }
};

}  // namespace

std::unique_ptr<ReportWriter> make_svg_writer() { return std::make_unique<SvgWriter>(); }

}  // namespace ccopy::report
