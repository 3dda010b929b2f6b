#pragma once
// The prompts of a batched workload (`moescope batch --prompts FILE`, the GUI's workload mode):
// plain text, one prompt per line, or JSONL, one {"prompt": "..."} object per line (chosen when
// the first non-blank line starts with '{'). Both front ends read a workload through this one
// parser, so a file the CLI refuses the GUI refuses with the same line.
#include <string>
#include <vector>

namespace moescope::storage {

struct WorkloadPrompt {
  int line = 0;  // 1-based line in the file
  std::string text;
};

// Throws moescope::Error, one line "FILE:LINE: problem", for a line that is not a JSON object with
// a non-empty string "prompt", an empty prompt line inside a text file, or a file without prompts.
// A text file's final newline does not start an empty prompt.
std::vector<WorkloadPrompt> parse_workload(const std::string& text, const std::string& file);

}  // namespace moescope::storage
