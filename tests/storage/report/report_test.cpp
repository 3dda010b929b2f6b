// `moescope report`: the real binary writes the HTML and PDF report of a trace recorded from the
// default model through the engine (a prompt with hostile text), and of a synthetic trace. The
// checks read the report back: escaping, self-containment, well-formed SVG, the policy table
// against TraceReader::policy_report, the heatmap's cells, the coloured text's misses against
// the primary cache's counters, the PDF rendered by poppler; and the bad-input cases.
// The engine names a function slots(): Qt's keyword macros stay off.
#define QT_NO_KEYWORDS
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <QString>
#include <QXmlStreamReader>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <string>

#include "engine/model/generator.h"
#include "engine/model/model.h"
#include "engine/offload/expert_store.h"
#include "engine/policy/shadow_set.h"
#include "engine/tokenizer/tokenizer.h"
#include "storage/report/escape.h"
#include "storage/run_info.h"
#include "storage/store_recording.h"
#include "storage/synthetic_recording.h"
#include "storage/trace_observer.h"
#include "storage/trace_reader.h"
#include "tests/app/cli_runner.h"

namespace moescope {
namespace {

namespace fs = std::filesystem;
using test::run_moescope;
using test::slurp;

constexpr const char* kHostilePrompt =
    "The package <script>alert(1)</script> & \"quotes\" 'apostrophes' were installed";

const fs::path& scratch() {
  return test::scratch_dir("moescope-report-test");
}

size_t count(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t i = text.find(what); i != std::string::npos; i = text.find(what, i + 1)) ++n;
  return n;
}

std::vector<std::string> svg_elements(const std::string& html) {
  std::vector<std::string> out;
  for (size_t i = html.find("<svg"); i != std::string::npos; i = html.find("<svg", i + 1)) {
    const size_t end = html.find("</svg>", i);
    if (end == std::string::npos) break;
    out.push_back(html.substr(i, end + 6 - i));
  }
  return out;
}

// The default model generates with an expert cache (LRU, 4 slots a layer, a prefetcher) and two
// shadow policies, recorded by `moescope record` with a hostile prompt and label.
fs::path record_default_model() {
  const fs::path path = scratch() / "default.sqlite";
  test::record_default_model(
      path.string(), {"--label", "<b>hostile</b> label", "--prompt", kHostilePrompt, "-n", "24",
                      "--batch", "8", "--expert-slots", "24", "--policy", "lru", "--prefetch",
                      "same-prev", "--compare", "fifo,belady"});
  return path;
}

class ReportTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    trace_ = new fs::path(record_default_model());
    storage::SyntheticRecording what;
    what.spec.n_layers = 3;
    what.spec.n_experts = 40;  // more than an affinity grid shows
    what.spec.n_tokens = 3000;
    what.spec.n_prefill = 200;
    what.slots_per_layer = 8;
    synthetic_ = new fs::path(scratch() / "synthetic.sqlite");
    storage::write_synthetic_trace(*synthetic_, what);
  }
  static void TearDownTestSuite() {
    delete trace_;
    delete synthetic_;
  }
  static fs::path* trace_;
  static fs::path* synthetic_;
};
fs::path* ReportTest::trace_ = nullptr;
fs::path* ReportTest::synthetic_ = nullptr;

TEST(ReportEscape, HostileBytesBecomeWellFormedXml) {
  const std::string hostile = std::string("<script>&'\"\x01\x1b") + "\xff\xc3(" + "\xed\xa0\x80" +
                              "\xef\xbf\xbe ok \xc3\xa9\xe2\x86\x92";
  const std::string escaped = storage::report::xml_escape(hostile);
  EXPECT_EQ(escaped.find('<'), std::string::npos);
  EXPECT_EQ(escaped.find('"'), std::string::npos);
  QXmlStreamReader xml(QString::fromStdString("<a title=\"" + escaped + "\">" + escaped + "</a>"));
  while (!xml.atEnd()) xml.readNext();
  EXPECT_FALSE(xml.hasError()) << xml.errorString().toStdString();
  EXPECT_NE(escaped.find("\xc3\xa9\xe2\x86\x92"), std::string::npos);  // valid UTF-8 is kept
  EXPECT_EQ(storage::report::xml_escape("a<b"), "a&lt;b");
}

TEST_F(ReportTest, HtmlIsSelfContainedEscapedAndMatchesTheTrace) {
  const fs::path out = scratch() / "report.html";
  const auto r =
      run_moescope({"report", "--trace", trace_->string(), "--out", out.string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out, "");
  const std::string html = slurp(out);
  ASSERT_FALSE(html.empty());

  // Hostile text appears only escaped.
  EXPECT_EQ(count(html, "<script"), 0u);
  EXPECT_EQ(count(html, "<b>hostile"), 0u);
  EXPECT_GE(count(html, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;quotes&quot;"), 1u);
  EXPECT_GE(count(html, "&lt;b&gt;hostile&lt;/b&gt; label"), 1u);
  // Self-contained: no URL, no file reference, no script.
  for (const char* bad : {"http:", "https:", "src=", "<link", "@import", "url(", "<img", "<iframe",
                          "<object", "javascript:"}) {
    EXPECT_EQ(count(html, bad), 0u) << bad;
  }

  // Every SVG is well-formed XML.
  const auto svgs = svg_elements(html);
  EXPECT_GE(svgs.size(), 5u);  // 2 heatmaps, affinity, 2 curve charts
  for (const std::string& svg : svgs) {
    QXmlStreamReader xml(QString::fromStdString(svg));
    while (!xml.atEnd()) xml.readNext();
    EXPECT_FALSE(xml.hasError()) << xml.errorString().toStdString() << " in " << svg.substr(0, 200);
  }
  // The whole page is well-formed too apart from the doctype and void tags it does not use.
  EXPECT_EQ(count(html, "<svg"), count(html, "</svg>"));

  storage::TraceReader reader(*trace_);
  const int64_t run = reader.latest_run();
  const storage::RunInfo info = reader.run_info(run);
  EXPECT_EQ(info.model.sha256, storage::sha256_file(MOESCOPE_DEFAULT_MODEL));
  EXPECT_NE(html.find(info.model.sha256), std::string::npos);

  // The activation heatmap has a cell per (MoE layer, expert).
  const policy::MoeShape shape = reader.shape(run);
  ASSERT_FALSE(svgs.empty());
  EXPECT_EQ(int64_t(count(svgs[0], "class=\"cell\"")), shape.total_experts());
  EXPECT_EQ(int64_t(count(svgs[1], "class=\"cell\"")), shape.total_experts());

  // The policy table: one row per recorded policy, its numbers those of policy_report.
  const auto policies = reader.policies(run);
  ASSERT_EQ(policies.size(), 3u);
  const std::regex row_re(
      "<tr class=\"policy-row\"><td>(\\d+)</td><td>([^<]*)</td><td>([^<]*)</td><td>(\\w+)</td>"
      "<td align=\"right\">([\\d,]+)</td><td align=\"right\">([\\d,]+)</td>"
      "<td align=\"right\">([^<]*)</td><td align=\"right\">([\\d,]+)</td>"
      "<td align=\"right\">([\\d,]+)</td><td align=\"right\" data-bytes=\"(\\d+)\">[^<]*</td>"
      "<td align=\"right\" data-ns=\"(\\d+)\">");
  auto number = [](std::string s) {
    std::erase(s, ',');
    return std::stoll(s);
  };
  size_t rows = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), row_re);
       it != std::sregex_iterator(); ++it, ++rows) {
    const std::smatch& m = *it;
    const int32_t id = int32_t(std::stoi(m[1]));
    const policy::CacheCounters t = reader.policy_report(run, id).total();
    SCOPED_TRACE(m[2].str());
    EXPECT_EQ(m[2].str(), policies[size_t(id)].spec);
    EXPECT_EQ(m[4].str(), policies[size_t(id)].primary ? "primary" : "shadow");
    EXPECT_EQ(number(m[5]), t.hits);
    EXPECT_EQ(number(m[6]), t.misses);
    EXPECT_EQ(m[7].str(), fmt::format("{:.1f} %", 100.0 * t.hits / t.accesses));
    EXPECT_EQ(number(m[8]), t.prefetch_used);
    EXPECT_EQ(number(m[9]), t.prefetch_wasted);
    EXPECT_EQ(std::stoll(m[10]), t.bytes_loaded);
    EXPECT_EQ(std::stoll(m[11]), t.stall_ns);
    EXPECT_GT(t.accesses, 0);
  }
  EXPECT_EQ(rows, policies.size());
  EXPECT_LT(html.find("policy-row\"><td>0</td><td>lru</td>"), html.find("<td>fifo</td>"));

  // The coloured text: a span per token, whose misses add up to the primary cache's misses.
  const auto tokens = reader.tokens(run);
  const std::regex span_re("<span class=\"t( p)?\" data-misses=\"(\\d+)\"");
  int64_t spans = 0, misses = 0;
  for (auto it = std::sregex_iterator(html.begin(), html.end(), span_re);
       it != std::sregex_iterator(); ++it) {
    ++spans;
    misses += std::stoll((*it)[2]);
  }
  EXPECT_EQ(spans, int64_t(tokens.size()));
  int32_t primary = -1;
  for (const auto& p : policies) primary = p.primary ? p.id : primary;
  ASSERT_GE(primary, 0);
  EXPECT_EQ(misses, reader.policy_report(run, primary).total().misses);
  EXPECT_GT(misses, 0);
  EXPECT_EQ(count(html, "Showing the first"), 0u);
}

TEST_F(ReportTest, PdfHasTheSameContentAndRenders) {
  const fs::path out = scratch() / "report.pdf";
  const auto r = run_moescope({"report", "--trace", trace_->string(), "--out", out.string()});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("report.pdf: report of run 1"), std::string::npos) << r.out;
  const std::string pdf = slurp(out);
  ASSERT_GT(pdf.size(), 1000u);
  EXPECT_EQ(pdf.substr(0, 5), "%PDF-");

  if (std::system("command -v pdftoppm > /dev/null 2>&1") != 0) {
    GTEST_SKIP() << "pdftoppm (poppler-utils) is not installed";
  }
  const fs::path png = scratch() / "page";
  const std::string cmd =
      "pdftoppm -r 50 -f 1 -l 1 -png '" + out.string() + "' '" + png.string() + "' 2>&1";
  ASSERT_EQ(std::system(cmd.c_str()), 0);
  bool rendered = false;
  for (const auto& e : fs::directory_iterator(scratch())) {
    const std::string name = e.path().filename().string();
    if (name.rfind("page", 0) == 0 && name.ends_with(".png")) rendered = fs::file_size(e) > 1000;
  }
  EXPECT_TRUE(rendered);

  // The PDF's text carries the report's content, hostile text as plain text.
  if (std::system("command -v pdftotext > /dev/null 2>&1") == 0) {
    const fs::path txt = scratch() / "report.txt";
    ASSERT_EQ(
        std::system(("pdftotext -layout '" + out.string() + "' '" + txt.string() + "'").c_str()),
        0);
    const std::string text = slurp(txt);
    for (const char* want : {"<script>alert(1)</script>", "Key numbers", "Layer", "Policies",
                             "belady", "fifo", "Text coloured by cache misses", "SHA-256"}) {
      EXPECT_NE(text.find(want), std::string::npos) << want;
    }
  }
}

TEST_F(ReportTest, LargeRunShowsTheBusiestExpertsAndCapsTheText) {
  const fs::path out = scratch() / "synthetic.html";
  const auto r = run_moescope({"report", "--trace", synthetic_->string(), "--out", out.string(),
                               "--quiet", "--max-tokens", "500"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = slurp(out);
  EXPECT_EQ(count(html, "data-misses="), 500u);
  EXPECT_NE(html.find("Showing the first 500 of 3,000 tokens"), std::string::npos);
  const auto svgs = svg_elements(html);
  ASSERT_GE(svgs.size(), 3u);
  EXPECT_EQ(count(svgs[0], "class=\"cell\""), 3u * 40u);
  // Affinity: two layer pairs of the 16 busiest experts each.
  EXPECT_EQ(count(svgs[2], "class=\"cell\""), 2u * 16u * 16u);
  EXPECT_NE(html.find("busiest ones only"), std::string::npos);
}

// An interrupted run without any cache: the report says so instead of inventing numbers.
TEST(ReportNoCache, InterruptedRunWithoutCache) {
  policy::SyntheticSpec spec;
  spec.n_layers = 2;
  spec.n_experts = 8;
  spec.n_tokens = 300;
  spec.n_prefill = 40;
  const policy::RoutingTrace routing = policy::synthetic_trace(spec);
  const fs::path path = scratch() / "interrupted.sqlite";
  {
    storage::TraceWriter writer(path);
    storage::RunInfo info;
    info.label = "killed";
    info.model.path = "/models/<unknown>.gguf";
    info.model.architecture = "synthetic";
    info.model.shape = routing.shape;
    writer.begin_run(info);
    storage::play_routing_trace(writer, routing);
    writer.abort_run("test");
  }
  const fs::path out = scratch() / "interrupted.html";
  const auto r =
      run_moescope({"report", "--trace", path.string(), "--out", out.string(), "--quiet"});
  ASSERT_EQ(r.exit_code, 0) << r.err;
  const std::string html = slurp(out);
  EXPECT_NE(html.find("<td>interrupted</td>"), std::string::npos);
  EXPECT_NE(html.find("The run recorded no cache policy."), std::string::npos);
  EXPECT_NE(html.find("no hit-rate heatmap"), std::string::npos);
  EXPECT_NE(html.find("&lt;unknown&gt;.gguf"), std::string::npos);
  EXPECT_EQ(count(html, "data-misses=\"0\""), 300u);
  EXPECT_EQ(count(svg_elements(html)[0], "class=\"cell\""), 16u);
}

TEST_F(ReportTest, BadInputFailsWithOneLineAndLeavesNoFile) {
  const fs::path dir = scratch() / "bad";
  fs::create_directories(dir);
  const fs::path html = dir / "r.html";
  const fs::path corrupt = dir / "corrupt.sqlite";
  std::ofstream(corrupt) << std::string(5000, 'x');

  struct Case {
    std::vector<std::string> args;
    int code;
    std::string mentions;
  };
  const std::vector<Case> cases = {
      {{"--trace", (dir / "missing.sqlite").string(), "--out", html.string()}, 1, "missing.sqlite"},
      {{"--trace", corrupt.string(), "--out", html.string()}, 1, "corrupt.sqlite"},
      {{"--trace", trace_->string(), "--run", "99", "--out", html.string()}, 1, "99"},
      {{"--trace", trace_->string(), "--out", (dir / "no-such-dir" / "r.html").string()},
       1,
       "no-such-dir"},
      {{"--trace", trace_->string(), "--out", "/etc/passwd/r.pdf"}, 1, "/etc/passwd"},
      {{"--trace", trace_->string(), "--out", dir.string() + "/r.txt"}, 2, ".html or .pdf"},
      {{"--trace", trace_->string()}, 2, "--out"},
      {{"--out", html.string()}, 2, "--trace"},
      {{"--trace", trace_->string(), "--run", "x", "--out", html.string()}, 2, "--run"},
  };
  for (const Case& c : cases) {
    std::vector<std::string> args = {"report"};
    args.insert(args.end(), c.args.begin(), c.args.end());
    const auto r = run_moescope(args);
    SCOPED_TRACE(c.mentions);
    EXPECT_EQ(r.exit_code, c.code) << r.err;
    EXPECT_EQ(test::count_lines(r.err), 1) << r.err;
    EXPECT_NE(r.err.find(c.mentions), std::string::npos) << r.err;
    EXPECT_EQ(r.out, "");
  }
  // Nothing was written: the directory holds only the corrupt trace.
  std::vector<std::string> left;
  for (const auto& e : fs::directory_iterator(dir)) left.push_back(e.path().filename().string());
  EXPECT_EQ(left, std::vector<std::string>{"corrupt.sqlite"});

  // A failing report keeps an existing file as it was.
  std::ofstream(html) << "old";
  const auto r = run_moescope(
      {"report", "--trace", trace_->string(), "--run", "7", "--out", html.string(), "--quiet"});
  EXPECT_EQ(r.exit_code, 1);
  EXPECT_EQ(slurp(html), "old");
}

}  // namespace
}  // namespace moescope

namespace moescope {
namespace {

// The report of a 100k-token run (32 MoE layers x 8 experts, LRU recorded): a few seconds.
// Not in CI (writing the trace takes a while); run with --gtest_also_run_disabled_tests.
TEST(ReportTiming, DISABLED_HundredThousandTokens) {
  storage::SyntheticRecording what;
  what.spec.n_layers = 32;
  what.spec.n_experts = 8;
  what.spec.n_tokens = 100000;
  what.spec.n_prefill = 512;
  what.spec.kind = policy::SyntheticSpec::Kind::kBursty;
  const fs::path trace = scratch() / "big.sqlite";
  storage::write_synthetic_trace(trace, what);
  for (const char* name : {"big.html", "big.pdf"}) {
    const fs::path out = scratch() / name;
    const auto t0 = std::chrono::steady_clock::now();
    const auto r = run_moescope({"report", "--trace", trace.string(), "--out", out.string()});
    const double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    ASSERT_EQ(r.exit_code, 0) << r.err;
    std::printf("%s: %.2f s, %.1f MiB\n", name, s, double(fs::file_size(out)) / (1 << 20));
    EXPECT_LT(s, 10.0);
    // MOESCOPE_REPORT_KEEP=DIR keeps the reports for a look.
    if (const char* keep = std::getenv("MOESCOPE_REPORT_KEEP")) {
      fs::copy_file(out, fs::path(keep) / name, fs::copy_options::overwrite_existing);
    }
  }
}

}  // namespace
}  // namespace moescope
