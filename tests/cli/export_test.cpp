// The exports of the real binary: that each parses, matches its schema and holds the numbers
// the console printed; that -runs and -warmup run the engines as often as they say, in
// interleaved order; and how exports meet stdout, bad paths and failed copies.
#include <fmt/format.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <sstream>

#include "ccopy/size.hpp"
#include "json_schema.hpp"
#include "process.hpp"
#include "test_dir.hpp"

namespace ccopy {
namespace {

using nlohmann::json;
using testing::entries_in;
using testing::Process;
using testing::ProcessResult;
using testing::run_binary;
using testing::SchemaValidator;
using testing::TestDir;

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

std::vector<std::string> small_run(const TestDir& dir, std::vector<std::string> extra) {
  std::vector<std::string> args{"-files", "6", "-size", "10K", "-dir", dir.path()};
  args.insert(args.end(), extra.begin(), extra.end());
  return args;
}

// What the console's "Running LABEL copy (...)... done in MEDIAN (MIBS MiB/s)" lines say.
struct ConsoleFigures {
  std::string median, mib_per_second;
};

std::map<std::string, ConsoleFigures> console_figures(const std::string& text) {
  std::map<std::string, ConsoleFigures> figures;
  const std::regex line(
      R"(^Running (\S+) copy \(.*\)\.\.\. done in ([0-9.]+ (?:ns|us|ms|s)) \(([0-9.]+) MiB/s\)$)",
      std::regex::multiline);
  for (auto it = std::sregex_iterator(text.begin(), text.end(), line); it != std::sregex_iterator();
       ++it)
    figures[(*it)[1].str()] = {(*it)[2].str(), (*it)[3].str()};
  return figures;
}

// The console's statistics and latency tables, per label, as the cells it printed. A duration
// is "12.3 ms"; the regexes keep its number and unit together.
struct ConsoleTables {
  std::map<std::string, std::vector<std::string>> wall, latency;
};

ConsoleTables console_tables(const std::string& text) {
  const std::string d = R"(([0-9.]+ (?:ns|us|ms|s)))";
  const std::regex wall(R"(^  (\S+) +([0-9]+) +)" + d + " +" + d + R"( \+- )" + d + " +" + d +
                            R"( \.\. )" + d + R"( +([0-9.]+) +([0-9]+) +([0-9]+)$)",
                        std::regex::multiline);
  const std::regex latency("^  (\\S+) +" + d + " +" + d + " +" + d + " +" + d + "$",
                           std::regex::multiline);
  ConsoleTables tables;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), wall); it != std::sregex_iterator();
       ++it)
    for (std::size_t i = 2; i < it->size(); ++i)
      tables.wall[(*it)[1].str()].push_back((*it)[i].str());
  for (auto it = std::sregex_iterator(text.begin(), text.end(), latency);
       it != std::sregex_iterator(); ++it)
    for (std::size_t i = 2; i < it->size(); ++i)
      tables.latency[(*it)[1].str()].push_back((*it)[i].str());
  return tables;
}

std::string duration(const json& seconds) { return format_duration(seconds.get<double>() * 1e9); }

// RFC 4180 fields, enough for what the CSV writer produces: quoted fields with doubled quotes.
std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> fields(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted && c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
      fields.back() += '"';
      ++i;
    } else if (c == '"') {
      quoted = !quoted;
    } else if (c == ',' && !quoted) {
      fields.emplace_back();
    } else {
      fields.back() += c;
    }
  }
  return fields;
}

// The CSV as one map per data row, from column name to field.
std::vector<std::map<std::string, std::string>> csv_rows(const std::string& text) {
  std::istringstream in(text);
  std::string line;
  std::getline(in, line);
  const std::vector<std::string> header = csv_fields(line);
  std::vector<std::map<std::string, std::string>> rows;
  while (std::getline(in, line)) {
    const std::vector<std::string> fields = csv_fields(line);
    EXPECT_EQ(fields.size(), header.size()) << line;
    std::map<std::string, std::string>& row = rows.emplace_back();
    for (std::size_t i = 0; i < std::min(fields.size(), header.size()); ++i)
      row[header[i]] = fields[i];
  }
  return rows;
}

// The Markdown table's data rows as their cells, trimmed; the header and its rule are skipped.
std::vector<std::vector<std::string>> markdown_rows(const std::string& text) {
  std::vector<std::vector<std::string>> rows;
  std::istringstream in(text);
  std::string line;
  bool header_seen = false;
  while (std::getline(in, line)) {
    if (line.rfind("| ", 0) != 0) continue;
    if (!header_seen) {
      header_seen = true;
      continue;
    }
    std::vector<std::string> cells;
    std::size_t start = 1;
    for (std::size_t bar = line.find('|', start); bar != std::string::npos;
         bar = line.find('|', start)) {
      std::string cell = line.substr(start, bar - start);
      cell.erase(0, cell.find_first_not_of(' '));
      cell.erase(cell.find_last_not_of(' ') + 1);
      cells.push_back(cell);
      start = bar + 1;
    }
    rows.push_back(cells);
  }
  return rows;
}

json parse_json(const std::string& text) {
  json doc = json::parse(text, nullptr, false);
  EXPECT_FALSE(doc.is_discarded()) << "not JSON:\n" << text;
  return doc;
}

SchemaValidator output_schema() {
  return SchemaValidator(
      json::parse(read_text(std::string(CCOPY_SOURCE_DIR) + "/docs/output.schema.json")));
}

std::string joined(const std::vector<std::string>& lines) {
  std::string text;
  for (const std::string& l : lines) text += l + '\n';
  return text;
}

TEST(Exports, EveryExportParsesAndHoldsTheNumbersTheConsolePrinted) {
  TestDir dir, out;
  const std::string json_path = out.path() + "/r.json", csv_path = out.path() + "/r.csv",
                    md_path = out.path() + "/r.md";
  const ProcessResult r =
      run_binary(small_run(dir, {"-runs", "3", "-warmup", "1", "-json", json_path, "-csv", csv_path,
                                 "-markdown", md_path}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const auto console = console_figures(r.out);
  ASSERT_EQ(console.size(), 2u) << r.out;
  ConsoleTables tables = console_tables(r.out);
  ASSERT_EQ(tables.wall.size(), 2u) << r.out;
  ASSERT_EQ(tables.latency.size(), 2u) << r.out;

  const json doc = parse_json(read_text(json_path));
  ASSERT_EQ(doc["scenarios"].size(), 1u);
  const json& engines = doc["scenarios"][0]["engines"];
  ASSERT_EQ(engines.size(), 2u);
  std::map<std::string, const json*> by_label;
  for (const json& e : engines) {
    const std::string label = e["label"].get<std::string>();
    by_label[label] = &e;
    ASSERT_TRUE(console.count(label)) << label;
    // Formatting the exported number as the console does must give the very text it printed.
    EXPECT_EQ(format_duration(e["wall_seconds"]["median"].get<double>() * 1e9),
              console.at(label).median);
    EXPECT_EQ(fmt::format("{:.2f}", e["mib_per_second"].get<double>()),
              console.at(label).mib_per_second);
    EXPECT_EQ(e["runs"].size(), 3u);
    const json& w = e["wall_seconds"];
    const json& l = e["latency_seconds"];
    EXPECT_EQ(tables.wall[label], (std::vector<std::string>{
                                      "3", duration(w["median"]), duration(w["mean"]),
                                      duration(w["stddev"]), duration(w["min"]), duration(w["max"]),
                                      fmt::format("{:.1f}", e["mib_per_second"].get<double>()),
                                      fmt::format("{:.0f}", e["files_per_second"].get<double>()),
                                      std::to_string(w["outliers"].size())}))
        << r.out;
    EXPECT_EQ(tables.latency[label],
              (std::vector<std::string>{duration(l["p50"]), duration(l["p90"]), duration(l["p99"]),
                                        duration(l["max"])}))
        << r.out;
    EXPECT_TRUE(e["verified"].get<bool>());
    EXPECT_TRUE(e["error"].is_null());
  }

  const auto rows = csv_rows(read_text(csv_path));
  ASSERT_EQ(rows.size(), 2u);
  for (const auto& row : rows) {
    const json& e = *by_label.at(row.at("label"));
    EXPECT_EQ(row.at("scenario"), "6x10K");
    EXPECT_EQ(std::stod(row.at("median_s")), e["wall_seconds"]["median"].get<double>());
    EXPECT_EQ(std::stod(row.at("mib_per_s")), e["mib_per_second"].get<double>());
    EXPECT_EQ(std::stod(row.at("latency_p99_s")), e["latency_seconds"]["p99"].get<double>());
    EXPECT_EQ(row.at("runs"), "3");
    EXPECT_EQ(row.at("warmups"), "1");
    EXPECT_EQ(row.at("verified"), "true");
    EXPECT_EQ(row.at("description"), e["description"].get<std::string>());
  }

  const std::string markdown = read_text(md_path);
  EXPECT_NE(markdown.find(dir.path() + " ("), std::string::npos) << "no conditions line:\n"
                                                                 << markdown;
  const auto table = markdown_rows(markdown);
  ASSERT_EQ(table.size(), 2u) << markdown;
  for (const auto& cells : table) {
    ASSERT_GE(cells.size(), 4u);
    EXPECT_EQ(cells[0], "6x10K");
    ASSERT_TRUE(console.count(cells[1])) << cells[1];
    EXPECT_EQ(cells[2], console.at(cells[1]).median);
    EXPECT_EQ(cells[3], console.at(cells[1]).mib_per_second);
  }
}

TEST(Exports, JsonMatchesTheDocumentedSchema) {
  TestDir dir, out;
  const std::string path = out.path() + "/r.json";
  const ProcessResult r = run_binary(small_run(dir, {"-runs", "2", "-warmup", "0", "-json", path}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const std::string text = read_text(path);
  const json doc = parse_json(text);
  EXPECT_EQ(nlohmann::ordered_json::parse(text).begin().key(), "context")
      << "the context block must open the document";
  const auto errors = output_schema().validate(doc);
  EXPECT_TRUE(errors.empty()) << joined(errors);
  EXPECT_EQ(doc["context"]["directory"], dir.path());
  EXPECT_EQ(doc["context"]["parameters"]["runs"], 2);
  EXPECT_EQ(doc["context"]["parameters"]["warmup"], 0);
  const std::vector<std::string> warnings = doc["warnings"].get<std::vector<std::string>>();
  EXPECT_NE(std::find(warnings.begin(), warnings.end(),
                      "only 2 timed runs per engine: too few to tell a difference from noise"),
            warnings.end());
}

TEST(Exports, HoldEveryScenarioOfASweep) {
  TestDir dir, out;
  const std::string json_path = out.path() + "/r.json", csv_path = out.path() + "/r.csv",
                    md_path = out.path() + "/r.md";
  const ProcessResult r =
      run_binary({"-files", "3,5", "-size", "4K", "-runs", "2", "-warmup", "0", "-dir", dir.path(),
                  "-json", json_path, "-csv", csv_path, "-markdown", md_path});
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json doc = parse_json(read_text(json_path));
  ASSERT_EQ(doc["scenarios"].size(), 2u);
  EXPECT_EQ(doc["scenarios"][0]["name"], "3x4K");
  EXPECT_EQ(doc["scenarios"][1]["name"], "5x4K");
  EXPECT_EQ(doc["context"]["parameters"]["files"], json::array({3, 5}));
  for (const json& s : doc["scenarios"]) EXPECT_EQ(s["engines"].size(), 2u);
  const auto errors = output_schema().validate(doc);
  EXPECT_TRUE(errors.empty()) << joined(errors);
  const auto rows = csv_rows(read_text(csv_path));
  ASSERT_EQ(rows.size(), 4u);
  EXPECT_EQ(rows[0].at("scenario"), "3x4K");
  EXPECT_EQ(rows[3].at("scenario"), "5x4K");
  EXPECT_EQ(markdown_rows(read_text(md_path)).size(), 4u);
}

TEST(Exports, SchemaValidatorRejectsWhatTheSchemaForbids) {
  TestDir dir, out;
  const std::string path = out.path() + "/r.json";
  const ProcessResult r = run_binary(small_run(dir, {"-runs", "1", "-warmup", "0", "-json", path}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json good = parse_json(read_text(path));
  const SchemaValidator schema = output_schema();
  ASSERT_TRUE(schema.validate(good).empty());

  json missing = good;
  missing["context"].erase("kernel");
  json wrong_type = good;
  wrong_type["scenarios"][0]["engines"][0]["runs"][0]["wall_ns"] = "fast";
  json bad_enum = good;
  bad_enum["context"]["cache"] = "lukewarm";
  json negative = good;
  negative["scenarios"][0]["engines"][0]["wall_seconds"]["median"] = -1.0;
  json undocumented = good;
  undocumented["scenarios"][0]["engines"][0]["speed"] = 1;
  json zero_scale = good;
  zero_scale["context"]["parameters"]["tree_scale"] = 0.0;
  for (const json* doc : {&missing, &wrong_type, &bad_enum, &negative, &undocumented, &zero_scale})
    EXPECT_FALSE(schema.validate(*doc).empty()) << doc->dump(1).substr(0, 200);
}

// The plain binary writes no ranks block; concurrent_copy_mpi's (tests/dist/mpi_bench_test.sh
// checks its values) must match the schema, which refuses a malformed one.
TEST(Exports, SchemaHoldsTheRanksBlockOfAnMpiRun) {
  TestDir dir, out;
  const std::string path = out.path() + "/r.json";
  const ProcessResult r = run_binary(small_run(dir, {"-runs", "1", "-warmup", "0", "-json", path}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json plain = parse_json(read_text(path));
  EXPECT_FALSE(plain["context"].contains("ranks"));
  const SchemaValidator schema = output_schema();
  json ranked = plain;
  ranked["context"]["ranks"] = {
      {"count", 2},
      {"hosts", {"node01"}},
      {"host_count", 1},
      {"startup_seconds", 0.18},
      {"timing", "rank 0's clock, from a barrier after set-up to the end of the shared copy"},
      {"resources", "summed over the ranks"}};
  EXPECT_TRUE(schema.validate(ranked).empty()) << joined(schema.validate(ranked));
  json unknown_startup = ranked;
  unknown_startup["context"]["ranks"]["startup_seconds"] = nullptr;
  EXPECT_TRUE(schema.validate(unknown_startup).empty());

  json missing = ranked;
  missing["context"]["ranks"].erase("host_count");
  json zero = ranked;
  zero["context"]["ranks"]["count"] = 0;
  json extra = ranked;
  extra["context"]["ranks"]["speed"] = 1;
  json other_sum = ranked;
  other_sum["context"]["ranks"]["resources"] = "rank 0's";
  for (const json* doc : {&missing, &zero, &extra, &other_sum})
    EXPECT_FALSE(schema.validate(*doc).empty()) << (*doc)["context"]["ranks"].dump();
}

TEST(Exports, RunsAndWarmupsRunExactlyAsOftenAsAsked) {
  TestDir dir, out;
  const std::string path = out.path() + "/r.json";
  const ProcessResult r = run_binary(small_run(dir, {"-runs", "3", "-warmup", "2", "-json", path}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json doc = parse_json(read_text(path));
  const json& engines = doc["scenarios"][0]["engines"];
  ASSERT_EQ(engines.size(), 2u);
  std::vector<std::int64_t> sequences;
  for (const json& e : engines) {
    EXPECT_EQ(e["warmups"].get<unsigned>(), 2u);
    ASSERT_EQ(e["runs"].size(), 3u);
    std::vector<unsigned> rounds;
    for (const json& run : e["runs"]) {
      rounds.push_back(run["round"].get<unsigned>());
      sequences.push_back(run["sequence"].get<std::int64_t>());
    }
    // Rounds count the warm-ups: two of them come first, then the three timed rounds.
    EXPECT_EQ(rounds, (std::vector<unsigned>{2, 3, 4}));
  }
  // Sequence numbers count every copy: the four warm-up copies took 0 to 3.
  std::sort(sequences.begin(), sequences.end());
  EXPECT_EQ(sequences, (std::vector<std::int64_t>{4, 5, 6, 7, 8, 9}));
}

// The path of strace when it can trace here, or empty.
std::string usable_strace() {
  const std::string strace = "/usr/bin/strace";
  if (!std::filesystem::exists(strace)) return {};
  Process probe(strace, {"-o", "/dev/null", "/bin/true"});
  return probe.finish(std::chrono::seconds(10)).exit_code == 0 ? strace : std::string();
}

// Counted from outside the program: every run, warm-ups included, starts with one syncfs, and
// the threads engine creates every destination with openat(O_CREAT) by its name relative to
// the destination directory, as the generation creates the six sources once before the runs.
TEST(Exports, StraceCountsEveryRunAndEveryCopy) {
  const std::string strace = usable_strace();
  if (strace.empty()) GTEST_SKIP() << "strace is not installed or cannot trace processes here";
  TestDir dir, out;
  const std::string trace = out.path() + "/trace";
  std::vector<std::string> args{"-f",        "-qq", "-o", trace, "-e", "trace=syncfs,openat",
                                CCOPY_BINARY};
  for (const std::string& a : small_run(dir, {"-runs", "3", "-warmup", "2", "-mode", "goroutine"}))
    args.push_back(a);
  // LeakSanitizer cannot run under ptrace: in a sanitizer build it would fail the traced run.
  Process p(strace, args, {"ASAN_OPTIONS=detect_leaks=0"});
  const ProcessResult r = p.finish(std::chrono::seconds(60));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  std::size_t syncs = 0, creates = 0;
  std::istringstream in(read_text(trace));
  for (std::string line; std::getline(in, line);) {
    if (line.find("syncfs(") != std::string::npos) ++syncs;
    if (line.find("openat(") != std::string::npos && line.find("\"file_") != std::string::npos &&
        line.find("O_CREAT") != std::string::npos)
      ++creates;
  }
  EXPECT_EQ(syncs, 5u) << "one syncfs per run: 2 warm-ups + 3 timed";
  EXPECT_EQ(creates, 6u + 5u * 6u) << "six sources generated, then six destinations per run";
}

TEST(Exports, EnginesAlternateRunByRun) {
  TestDir dir, out;
  const std::string path = out.path() + "/r.json";
  const ProcessResult r = run_binary(small_run(dir, {"-runs", "4", "-warmup", "1", "-json", path}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json doc = parse_json(read_text(path));
  std::vector<std::pair<std::int64_t, std::string>> order;
  for (const json& e : doc["scenarios"][0]["engines"])
    for (const json& run : e["runs"])
      order.emplace_back(run["sequence"].get<std::int64_t>(), e["label"]);
  std::sort(order.begin(), order.end());
  ASSERT_EQ(order.size(), 8u);
  std::string labels;
  for (const auto& [sequence, label] : order) labels += label + " ";
  EXPECT_EQ(labels, "xev goroutine xev goroutine xev goroutine xev goroutine ") << labels;
  for (std::size_t i = 1; i < order.size(); ++i)
    EXPECT_EQ(order[i].first, order[i - 1].first + 1) << "a copy ran between two recorded ones";
}

TEST(Exports, AnExportOnStdoutMovesTheConsoleReportToStderr) {
  for (const char* flag : {"-json", "-csv", "-markdown"}) {
    TestDir dir;
    const ProcessResult r = run_binary(small_run(dir, {"-runs", "2", "-warmup", "0", flag, "-"}));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    EXPECT_NE(r.err.find("Concurrent File Copy Benchmark"), std::string::npos) << flag << r.err;
    EXPECT_EQ(r.out.find("Concurrent File Copy Benchmark"), std::string::npos) << flag << r.out;
    if (std::string(flag) == "-json") {
      EXPECT_FALSE(json::parse(r.out, nullptr, false).is_discarded()) << r.out;
    } else if (std::string(flag) == "-csv") {
      EXPECT_EQ(csv_rows(r.out).size(), 2u) << r.out;
    } else {
      EXPECT_EQ(markdown_rows(r.out).size(), 2u) << r.out;
    }
  }
}

TEST(Exports, TwoExportsOnStdoutAreAUsageError) {
  TestDir dir;
  const ProcessResult r = run_binary(small_run(dir, {"-json", "-", "-csv", "-"}));
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("-json and -csv both write to stdout"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty());
}

TEST(Exports, AnExportIntoAMissingDirectoryIsAUsageErrorBeforeAnyRun) {
  TestDir dir;
  const ProcessResult r = run_binary(small_run(dir, {"-csv", dir.path() + "/no/such/r.csv"}));
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find("-csv " + dir.path() + "/no/such/r.csv: " + dir.path() +
                       "/no/such: No such file or directory"),
            std::string::npos)
      << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
  EXPECT_EQ(entries_in(dir.path()), 0u);
}

TEST(Exports, AnExportThatCannotBeWrittenIsNamedAndExitsWithOne) {
  TestDir dir, out;
  const std::string blocked = out.path() + "/blocked";  // a directory: opening it to write fails
  std::filesystem::create_directory(blocked);
  const std::string csv_path = out.path() + "/r.csv";
  const ProcessResult r = run_binary(
      small_run(dir, {"-runs", "1", "-warmup", "0", "-json", blocked, "-csv", csv_path}));
  EXPECT_EQ(r.exit_code, 1) << r.out << r.err;
  EXPECT_NE(r.err.find("cannot write -json " + blocked + ": Is a directory"), std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("Verification: OK"), std::string::npos) << r.out;
  EXPECT_EQ(csv_rows(read_text(csv_path)).size(), 2u) << "the other export was not written";
}

// strace's fault injection makes every fdatasync fail, so the copy fails after the files were
// generated: the exports must still be written, and say why.
TEST(Exports, AreWrittenWithTheErrorWhenACopyFails) {
  const std::string strace = usable_strace();
  if (strace.empty()) GTEST_SKIP() << "strace is not installed or cannot trace processes here";
  TestDir dir, out;
  const std::string json_path = out.path() + "/r.json", csv_path = out.path() + "/r.csv",
                    md_path = out.path() + "/r.md";
  std::vector<std::string> args{"-f",        "-qq",
                                "-o",        "/dev/null",
                                "-e",        "trace=fdatasync",
                                "-e",        "inject=fdatasync:error=EIO",
                                CCOPY_BINARY};
  for (const std::string& a :
       small_run(dir, {"-runs", "1", "-warmup", "0", "-mode", "goroutine", "-fsync", "-json",
                       json_path, "-csv", csv_path, "-markdown", md_path}))
    args.push_back(a);
  // LeakSanitizer cannot run under ptrace: in a sanitizer build it would fail the traced run.
  Process p(strace, args, {"ASAN_OPTIONS=detect_leaks=0"});
  const ProcessResult r = p.finish(std::chrono::seconds(60));
  ASSERT_EQ(r.exit_code, 1) << r.out << r.err;

  const json doc = parse_json(read_text(json_path));
  EXPECT_FALSE(doc["ok"].get<bool>());
  const json& engine = doc["scenarios"][0]["engines"][0];
  EXPECT_FALSE(engine["verified"].get<bool>());
  ASSERT_TRUE(engine["error"].is_string());
  EXPECT_NE(engine["error"].get<std::string>().find("Input/output error"), std::string::npos);
  EXPECT_TRUE(output_schema().validate(doc).empty()) << joined(output_schema().validate(doc));

  const auto rows = csv_rows(read_text(csv_path));
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].at("verified"), "false");
  EXPECT_NE(rows[0].at("error").find("Input/output error"), std::string::npos);
  // The error names the source and the step, then the destination it failed on.
  EXPECT_NE(read_text(md_path).find("FAILED: copy " + dir.path()), std::string::npos)
      << read_text(md_path);
  EXPECT_NE(read_text(md_path).find(": fdatasync " + dir.path()), std::string::npos)
      << read_text(md_path);
}

TEST(Exports, NothingIsWrittenWhenUsageIsBad) {
  TestDir dir, out;
  const std::string path = out.path() + "/r.json";
  const ProcessResult r = run_binary(small_run(dir, {"-json", path, "-mode", "fast"}));
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_FALSE(std::filesystem::exists(path));
}

// The comparison and the warning come from one test: with two engines, the warning names their
// pair exactly when the ranking says the difference is within the noise, with the same ratio
// and uncertainty, in the console (under the comparison), the JSON (the scenario's and the
// run's warnings), the CSV and the Markdown.
TEST(Warnings, TheRankingWarningComesFromTheSameTestAsTheRanking) {
  TestDir dir, out;
  const std::string json_path = out.path() + "/r.json", csv_path = out.path() + "/r.csv",
                    md_path = out.path() + "/r.md";
  const ProcessResult r =
      run_binary(small_run(dir, {"-runs", "3", "-warmup", "0", "-json", json_path, "-csv", csv_path,
                                 "-markdown", md_path}));
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  const json doc = parse_json(read_text(json_path));
  const json& scenario = doc["scenarios"][0];
  const json& ranking = scenario["ranking"];
  ASSERT_EQ(ranking.size(), 2u);
  const bool beyond = ranking[1]["beyond_noise"].get<bool>();
  const double ratio = ranking[1]["ratio_to_fastest"], uncertainty = ranking[1]["uncertainty"];
  EXPECT_EQ(beyond, std::abs(ratio - 1.0) > uncertainty) << "the interval decides";
  const std::string pair =
      fmt::format("{} and {} ({:.2f} \u00b1 {:.2f}x)", ranking[0]["label"].get<std::string>(),
                  ranking[1]["label"].get<std::string>(), ratio, uncertainty);
  const std::string warning =
      "6x10K: within the noise, their order could flip on another run: " + pair;
  const std::string verdict = beyond ? "(beyond the noise)" : "(within the noise)";
  EXPECT_NE(r.out.find(fmt::format("  {} is {:.2f} \u00b1 {:.2f}x faster than {} {}\n",
                                   ranking[0]["label"].get<std::string>(), ratio, uncertainty,
                                   ranking[1]["label"].get<std::string>(), verdict)),
            std::string::npos)
      << r.out;
  const auto in = [](const json& list, const std::string& text) {
    return std::find(list.begin(), list.end(), text) != list.end();
  };
  EXPECT_EQ(in(scenario["warnings"], warning), !beyond) << scenario["warnings"].dump();
  EXPECT_EQ(in(doc["warnings"], warning), !beyond) << doc["warnings"].dump();
  EXPECT_EQ(scenario["warnings"].size(), beyond ? 0u : 1u);
  EXPECT_EQ(r.out.find("***WARNING*** " + warning + "\n") != std::string::npos, !beyond) << r.out;
  EXPECT_EQ(read_text(md_path).find("**Warning:** " + warning) != std::string::npos, !beyond);
  for (const auto& row : csv_rows(read_text(csv_path))) {
    if (row.at("label") != ranking[1]["label"].get<std::string>()) continue;
    EXPECT_EQ(std::stod(row.at("ratio_to_fastest")), ratio);
    EXPECT_EQ(std::stod(row.at("ratio_uncertainty")), uncertainty);
    EXPECT_EQ(row.at("beyond_noise"), beyond ? "true" : "false");
  }
}

}  // namespace
}  // namespace ccopy
