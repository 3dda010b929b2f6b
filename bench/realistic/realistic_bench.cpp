// bench_realistic [--cache DIR] [--moescope PATH] [-p 64] [-n 16] [-r 3] [--threads 1,2]
//                 [--models NAME,...] [--list | --bandwidth]
// Decode and prefill speed on memory-bound models of real MoE shapes (realistic_models.h), beside
// this machine's read bandwidth measured in the same run, and decode as a share of the bound that
// bandwidth sets (bytes read per decode token / bandwidth). The speeds come from `moescope bench`
// (run as a child process, so that exactly the CLI's pipeline is measured); the models are
// generated once into the cache directory.
//   --list       generate what is missing, print "name path decode_bytes" per model
//   --bandwidth  print "threads wall_bytes_per_second cpu_bytes_per_second" per thread count
// bench/realistic/compare_llama_bench.py runs llama-bench beside it on the same files.
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QString>
#include <QStringList>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "bench/realistic/realistic_models.h"
#include "bench/realistic/stream_bandwidth.h"

namespace {

using moescope::bench::RealisticModel;

struct Options {
  std::filesystem::path cache = moescope::bench::default_cache_dir();
  std::string moescope = MOESCOPE_CLI_PATH;
  int n_prompt = 64, n_gen = 16, reps = 3;
  std::vector<int> threads = {1, 2};
  std::vector<std::string> models;  // empty: all
  bool list = false, bandwidth_only = false;
};

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= text.size()) {
    const size_t comma = std::min(text.find(',', start), text.size());
    if (comma > start) out.push_back(text.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

int to_int(const std::string& flag, const std::string& v) {
  try {
    size_t used = 0;
    const int n = std::stoi(v, &used);
    if (used == v.size() && n > 0) return n;
  } catch (const std::exception&) {
  }
  throw std::runtime_error(flag + " needs a positive number, got '" + v + "'");
}

Options parse(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    if (a == "--list" || a == "--bandwidth") {
      (a == "--list" ? o.list : o.bandwidth_only) = true;
      continue;
    }
    if (i + 1 >= argc) throw std::runtime_error(a + " needs a value");
    const std::string v = argv[++i];
    if (a == "--cache")
      o.cache = v;
    else if (a == "--moescope")
      o.moescope = v;
    else if (a == "-p")
      o.n_prompt = to_int(a, v);
    else if (a == "-n")
      o.n_gen = to_int(a, v);
    else if (a == "-r")
      o.reps = to_int(a, v);
    else if (a == "--models")
      o.models = split(v);
    else if (a == "--threads") {
      o.threads.clear();
      for (const auto& t : split(v)) o.threads.push_back(to_int(a, t));
    } else {
      throw std::runtime_error("unknown option '" + a + "'");
    }
  }
  return o;
}

std::vector<RealisticModel> chosen_models(const Options& o) {
  std::vector<RealisticModel> out;
  for (const auto& m : moescope::bench::realistic_models()) {
    if (o.models.empty() || std::find(o.models.begin(), o.models.end(), m.name) != o.models.end())
      out.push_back(m);
  }
  if (out.empty()) throw std::runtime_error("--models matches no model (see --list)");
  return out;
}

std::string load_average() {
  std::ifstream in("/proc/loadavg");
  std::string line;
  std::getline(in, line);
  return line + "\n";
}

double median(std::vector<double> v) {
  if (v.empty()) return 0.0;
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 == 1 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

// Median tokens/s of each test ("pp64", "tg16") of one `moescope bench --json` run.
std::map<std::string, double> moescope_bench(const Options& o, const std::filesystem::path& model,
                                             int threads) {
  QProcess p;
  p.setProcessChannelMode(QProcess::ForwardedErrorChannel);
  p.start(QString::fromStdString(o.moescope),
          {"bench", "--model", QString::fromStdString(model.string()), "-p",
           QString::number(o.n_prompt), "-n", QString::number(o.n_gen), "-t",
           QString::number(threads), "-r", QString::number(o.reps), "--json"});
  if (!p.waitForFinished(-1) || p.exitStatus() != QProcess::NormalExit || p.exitCode() != 0) {
    throw std::runtime_error("moescope bench failed on " + model.string());
  }
  std::map<std::string, double> out;
  for (const auto& entry : QJsonDocument::fromJson(p.readAllStandardOutput()).array()) {
    const QJsonObject test = entry.toObject();
    std::vector<double> ts;
    for (const auto& s : test["samples_ts"].toArray()) ts.push_back(s.toDouble());
    out[test["test"].toString().toStdString()] = median(ts);
  }
  return out;
}

void print_table(const Options& o, const std::map<int, moescope::bench::Bandwidth>& bandwidth) {
  const std::string pp = "pp" + std::to_string(o.n_prompt), tg = "tg" + std::to_string(o.n_gen);
  std::printf("| model | GB read per decode token | threads | prefill tok/s (%s) | ", pp.c_str());
  std::printf("decode tok/s (%s) | bound tok/s | decode %% of bound | %% of CPU-time bound |\n",
              tg.c_str());
  std::printf("|---|---:|---:|---:|---:|---:|---:|---:|\n");
  for (const auto& m : chosen_models(o)) {
    const auto path = moescope::bench::ensure_model(m, o.cache);
    const double bytes = double(moescope::tools::synthetic_moe_sizes(m.spec).decode_bytes);
    for (int t : o.threads) {
      auto ts = moescope_bench(o, path, t);
      const double bound = bandwidth.at(t).wall / bytes;
      const double cpu_bound = bandwidth.at(t).cpu / bytes;
      std::printf("| %s | %.3f | %d | %.2f | %.2f | %.2f | %.0f %% | %.0f %% |\n", m.name.c_str(),
                  bytes / 1e9, t, ts[pp], ts[tg], bound, 100.0 * ts[tg] / bound,
                  100.0 * ts[tg] / cpu_bound);
      std::fflush(stdout);
    }
  }
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Options o = parse(argc, argv);
    if (o.list) {
      for (const auto& m : chosen_models(o)) {
        const auto path = moescope::bench::ensure_model(m, o.cache);
        std::printf("%s %s %llu\n", m.name.c_str(), path.c_str(),
                    static_cast<unsigned long long>(
                        moescope::tools::synthetic_moe_sizes(m.spec).decode_bytes));
      }
      return 0;
    }
    std::map<int, moescope::bench::Bandwidth> bandwidth;
    for (int t : o.threads) bandwidth[t] = moescope::bench::read_bandwidth(t);
    if (o.bandwidth_only) {
      for (const auto& [t, bw] : bandwidth) std::printf("%d %.0f %.0f\n", t, bw.wall, bw.cpu);
      return 0;
    }
    std::printf("Load average before: %s", load_average().c_str());
    std::printf("Read bandwidth (STREAM-style, best of 40 passes over 128 MiB), wall / CPU time:");
    for (const auto& [t, bw] : bandwidth) {
      std::printf(" %d thread(s) %.1f / %.1f GB/s;", t, bw.wall / 1e9, bw.cpu / 1e9);
    }
    std::printf("\nmoescope bench -p %d -n %d -r %d, medians of the repetitions.\n\n", o.n_prompt,
                o.n_gen, o.reps);
    print_table(o, bandwidth);
    std::printf("\nLoad average after: %s", load_average().c_str());
    return 0;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "bench_realistic: %s\n", e.what());
    return 1;
  }
}
