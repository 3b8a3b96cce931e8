// The SVG chart: a group of bars per scenario, a bar per engine at its median throughput on a
// linear axis from zero, a whisker from the slowest to the fastest run, an engine that failed
// drawn as a dashed outline marked "failed", and the machine and file system in the title. Any
// text, a path that is not UTF-8 included, is written as valid XML.
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

// The length of the UTF-8 sequence that starts `text`, or 0 when it is not a valid one
// (a stray continuation byte, a truncated sequence, an overlong form, a surrogate, or a code
// point above U+10FFFF).
std::size_t utf8_length(std::string_view text) {
  const auto byte = [&](std::size_t i) { return static_cast<unsigned char>(text[i]); };
  const unsigned char lead = byte(0);
  if (lead < 0x80) return 1;
  const std::size_t length = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc2 ? 2 : 0;
  if (length == 0 || lead > 0xf4 || text.size() < length) return 0;
  for (std::size_t i = 1; i < length; ++i)
    if ((byte(i) & 0xc0) != 0x80) return 0;
  if (lead == 0xe0 && byte(1) < 0xa0) return 0;   // overlong
  if (lead == 0xed && byte(1) >= 0xa0) return 0;  // a surrogate
  if (lead == 0xf0 && byte(1) < 0x90) return 0;   // overlong
  if (lead == 0xf4 && byte(1) >= 0x90) return 0;  // above U+10FFFF
  return length;
}

// Text as XML character data, valid whatever bytes it came from: the five markup characters
// escaped, and every byte that is not part of valid UTF-8, and every control character XML 1.0
// forbids, replaced by U+FFFD. Paths and error texts need not be UTF-8.
std::string escape(std::string_view text) {
  std::string out;
  while (!text.empty()) {
    const std::size_t length = utf8_length(text);
    const char c = text.front();
    const bool control =
        length == 1 && static_cast<unsigned char>(c) < 0x20 && c != '\t' && c != '\n' && c != '\r';
    if (length == 0 || control) {
      out += "\xef\xbf\xbd";
      text.remove_prefix(1);
      continue;
    }
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
      case '\'':
        out += "&apos;";
        break;
      default:
        out.append(text.substr(0, length));
    }
    text.remove_prefix(length);
  }
  return out;
}

// The characters of `text`, counting an invalid byte as one (escape() makes it one).
std::size_t characters(std::string_view text) {
  std::size_t count = 0;
  while (!text.empty()) {
    text.remove_prefix(std::max<std::size_t>(1, utf8_length(text)));
    ++count;
  }
  return count;
}

// An estimate of a sans-serif text's width, used to keep labels apart: the average glyph of
// the common sans-serif fonts (DejaVu Sans, Liberation Sans, Arial) is at most about 0.58 em
// wide in this kind of text.
constexpr double kEm = 0.58;
double text_width(std::string_view text, double font_size) {
  return static_cast<double>(characters(text)) * font_size * kEm;
}

// Shortens `text` to fit `width` pixels, marking the cut with an ellipsis; it cuts between
// characters, never inside one.
std::string fit(std::string text, double width, double font_size) {
  if (text_width(text, font_size) <= width) return text;
  const auto keep = static_cast<std::size_t>(std::max(0.0, width / (font_size * kEm) - 3));
  std::string_view rest = text;
  std::size_t bytes = 0;
  for (std::size_t kept = 0; kept < keep && bytes < text.size(); ++kept)
    bytes += std::max<std::size_t>(1, utf8_length(rest.substr(bytes)));
  return text.substr(0, bytes) + "...";
}

// Throughput figures of one engine in one scenario, in MiB/s; absent when it has no timings.
// `failed` marks an engine whose error stopped it after some timed runs: it is drawn as an
// outline, not as a bar like the others.
struct Bar {
  bool present = false;
  bool failed = false;
  double median = 0, low = 0, high = 0;
};

Bar bar_of(const Scenario& scenario, const EngineResult& e) {
  Bar b;
  if (e.runs.empty() || scenario.total_bytes() == 0) return b;
  const Summary w = e.wall_seconds();
  if (w.min <= 0) return b;
  const double mib = static_cast<double>(scenario.total_bytes()) / (1024.0 * 1024.0);
  b = {true, static_cast<bool>(e.error), mib / w.median, mib / w.max, mib / w.min};
  return b;
}

// A tick's label: six significant digits drop the binary noise of i * step (0.30000000000000004
// is "0.3") and keep 1.25 as it is.
std::string number(double value) { return fmt::format("{:g}", value); }

// Maps throughput to a vertical position on a linear axis from zero, so that a bar twice as
// tall is twice as fast, and chooses the ticks to label: 1, 2, 2.5 or 5 times a power of ten.
class Axis {
 public:
  Axis(double highest, double top, double bottom) : top_(top), bottom_(bottom) {
    const double raw = std::max(highest, 1e-9) / 5;
    const double magnitude = std::pow(10.0, std::floor(std::log10(raw)));
    double step = magnitude * 10;
    for (double m : {1.0, 2.0, 2.5, 5.0, 10.0}) {
      if (magnitude * m >= raw) {
        step = magnitude * m;
        break;
      }
    }
    high_ = std::ceil(highest / step) * step;
    for (int i = 0; i * step <= high_ * 1.0001; ++i) ticks_.push_back(i * step);
  }

  [[nodiscard]] double y(double value) const {
    return bottom_ - std::clamp(value / high_, 0.0, 1.0) * (bottom_ - top_);
  }
  [[nodiscard]] const std::vector<double>& ticks() const { return ticks_; }

 private:
  double top_, bottom_;
  double high_ = 1;
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

    std::vector<std::vector<Bar>> bars;
    double highest = 0;
    bool any_failed = false;
    for (const ScenarioResult& s : result.scenarios) {
      std::vector<Bar>& row = bars.emplace_back();
      for (const EngineResult& e : s.engines) {
        const Bar b = row.emplace_back(bar_of(s.scenario, e));
        any_failed = any_failed || static_cast<bool>(e.error);
        if (b.present) highest = std::max(highest, b.high);
      }
    }
    const bool any = highest > 0;
    const Axis axis(any ? highest : 1, top, bottom);
    const std::vector<std::string> notes = captions(result, any_failed);
    const double height = bottom + label_room + 16 + 16 * static_cast<double>(notes.size());

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
    for (std::size_t i = 0; i < notes.size(); ++i)
      out << fmt::format(
          "<text x=\"24\" y=\"{:.1f}\" font-size=\"11\" fill=\"#555555\">{}</text>\n",
          height - 10 - 16 * static_cast<double>(notes.size() - 1 - i),
          escape(fit(notes[i], width - 48, 11)));
    out << "</svg>\n";
  }

 private:
  // The lines under the chart: how to read it, what a dashed outline means when there is one,
  // and where the chart comes from.
  static std::vector<std::string> captions(const BenchmarkResult& result, bool any_failed) {
    std::vector<std::string> lines{fmt::format(
        "Bars: medians of {}; whiskers: slowest to fastest run; linear axis from 0; MiB/s = "
        "2^20 bytes per second.",
        timed_runs_text(result))};
    if (any_failed)
      lines.emplace_back(
          "Dashed outline: an engine that failed, at the median of its runs before the failure.");
    lines.push_back(fmt::format("concurrent_copy {} (commit {}, {} build), {}",
                                result.context.version, result.context.git_commit,
                                result.context.build_type, result.context.date));
    return lines;
  }

  static void write_title(const BenchmarkResult& result, double width, std::ostream& out) {
    const RunContext& x = result.context;
    const BenchmarkConfig& c = result.config;
    const std::string title =
        result.scenarios.size() == 1
            ? fmt::format("Copy throughput: {} ({})", result.scenarios.front().scenario.name(),
                          format_bytes(result.scenarios.front().scenario.total_bytes()))
            : fmt::format("Copy throughput across {} scenarios", result.scenarios.size());
    const std::string machine = fmt::format("CPUs: {} ({}), {}, {} memory", cpu_text(x),
                                            x.cpu_model, x.kernel, format_bytes(x.memory_bytes)) +
                                (x.ranks ? "; " + ranks_text(x) : std::string());
    const std::string conditions = fmt::format(
        "{} ({}), page cache {}, {}; {} after {} warm-up{}, interleaved", x.directory, x.filesystem,
        x.cold_cache ? "cold" : "warm", c.options.fsync ? "fdatasync before close" : "no fsync",
        timed_runs_text(result), c.warmup, c.warmup == 1 ? "" : "s");
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
        "transform=\"rotate(-90 20 {0:.1f})\">Throughput, MiB/s</text>\n",
        middle);
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
    if (b.failed) {
      // No fill and no whisker: the runs before the failure, marked as such.
      out << fmt::format(
          "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" fill=\"none\" "
          "stroke=\"{}\" stroke-width=\"1.5\" stroke-dasharray=\"4 3\">"
          "<title>{} {}: FAILED ({}); median of the runs before: {:.1f} MiB/s</title></rect>\n",
          x + 2, y, inner, std::max(0.0, bottom - y), colour, escape(e.choice.label),
          escape(s.scenario.name()), escape(e.error.message()), b.median);
      out << fmt::format(
          "<text x=\"{:.1f}\" y=\"{:.1f}\" font-size=\"10\" text-anchor=\"middle\" "
          "fill=\"#c0392b\">failed</text>\n",
          center, y - 4);
      return;
    }
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
