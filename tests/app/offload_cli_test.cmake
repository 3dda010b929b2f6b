# The offloading flags of generate, bench and perplexity: bad values exit 2 with one line; the
# per-policy summary table is printed (shadows, oracles marked as a second pass, lossy runs
# labelled); --json parses and holds the same rows; perplexity with exact offloading prints the
# resident number and with a lossy flag another one.
cmake_minimum_required(VERSION 3.25)

include("${CMAKE_CURRENT_LIST_DIR}/cli_test_lib.cmake")

unset(ENV{MOESCOPE_MODEL})
set(gen generate --model "${MODEL}" --prompt "It is a truth" -n 12 --seed 1)

# Usage errors: exit 2, one "moescope: generate: ..." line naming the flag.
foreach(bad "--expert-budget;lots" "--expert-slots;-3" "--expert-slots;4;--policy;nosuch"
            "--expert-slots;4;--prefetch;nosuch" "--expert-slots;4;--link;warp"
            "--expert-slots;4;--link-latency;soon" "--expert-slots;4;--compare;lru,,fifo"
            "--expert-slots;4;--compare;lru@nosuch" "--expert-slots;4;--policy;belady"
            "--expert-slots;4;--allocator;adapmoe" "--adaptive-topk;1.5"
            "--expert-slots;4;--substitute;-1" "--substitute;0.1" "--compare;lru" "--curves"
            "--expert-slots;2;--expert-budget;1MiB")
  run_moescope(${gen} ${bad})
  string(REGEX MATCHALL "\n" newlines "${err}")
  list(LENGTH newlines n_lines)
  if(NOT rc EQUAL 2 OR NOT err MATCHES "^moescope: generate: " OR NOT n_lines EQUAL 1)
    failed("generate ${bad}: exit ${rc}, stderr '${err}'; expected exit 2 and one line")
  endif()
endforeach()
run_moescope(bench --model "${MODEL}" -p 0 -n 4 --expert-slots x)
if(NOT rc EQUAL 2 OR NOT err MATCHES "^moescope: bench: ")
  failed("bench --expert-slots x: exit ${rc}, '${err}'")
endif()
run_moescope(perplexity --model "${MODEL}" --file "${TEXT}" --adaptive-topk nan)
if(NOT rc EQUAL 2 OR NOT err MATCHES "^moescope: perplexity: ")
  failed("perplexity --adaptive-topk nan: exit ${rc}, '${err}'")
endif()

# The summary table: the driving row (live, modelled and measured stall), shadows, the oracle.
run_moescope(${gen} --expert-slots 8 --link nvme --compare fifo,lru-global@same-prev,belady --curves)
if(NOT rc EQUAL 0)
  failed("generate with offloading: exit ${rc}, ${err}")
endif()
foreach(row "\\| lru \\| none \\| live \\| [0-9.]+ % \\| [0-9.]+ % \\| [0-9.]+ [KMG]?i?B \\| [0-9.]+ ms \\| [0-9.]+ ms \\|"
            "\\| fifo \\| none \\| shadow \\|" "\\| lru-global \\| same-prev:1 \\| shadow \\|"
            "\\| belady-bypass \\| none \\| oracle \\|" "second pass" "hit rate vs slots per layer"
            "\\| exact \\|")
  if(NOT err MATCHES "${row}")
    failed("generate's summary has no line matching '${row}':\n${err}")
  endif()
endforeach()
if(err MATCHES "LOSSY")
  failed("an exact run is labelled lossy:\n${err}")
endif()

# --json: one object, the same rows, per-layer curves for LRU and OPT.
run_moescope(${gen} --expert-slots 8 --compare fifo,sch:4 --curves --adaptive-topk 0.3 --json)
if(NOT rc EQUAL 0)
  failed("generate --json: exit ${rc}, ${err}")
else()
  string(JSON lossy GET "${out}" offload lossy)
  string(JSON variants GET "${out}" offload lossy_variants)
  string(JSON n_rows LENGTH "${out}" offload rows)
  string(JSON run2 GET "${out}" offload rows 2 run)
  string(JSON row_lossy GET "${out}" offload rows 1 lossy)
  string(JSON hits GET "${out}" offload rows 0 decode hits)
  string(JSON accesses GET "${out}" offload rows 0 decode accesses)
  string(JSON n_layers LENGTH "${out}" offload curves layers)
  string(JSON n_caps LENGTH "${out}" offload curves layers 0 opt_hits decode)
  string(JSON dropped GET "${out}" offload lossy_counters dropped)
  if(NOT lossy STREQUAL "ON" OR NOT row_lossy STREQUAL "ON" OR NOT variants MATCHES "adaptive-topk"
     OR NOT n_rows EQUAL 3 OR NOT run2 STREQUAL "oracle" OR NOT n_layers EQUAL 4
     OR NOT n_caps EQUAL 9 OR hits GREATER accesses OR NOT dropped GREATER 0)
    failed("generate --json: lossy ${lossy}/${row_lossy} '${variants}', ${n_rows} rows, row 2 "
           "'${run2}', hits ${hits}/${accesses}, ${n_layers} curve layers of ${n_caps}, "
           "dropped ${dropped}")
  endif()
endif()
run_moescope(bench --model "${MODEL}" -p 16 -n 4 -r 1 --expert-slots 8 --compare opt --json)
if(NOT rc EQUAL 0)
  failed("bench --json with offloading: exit ${rc}, ${err}")
else()
  string(JSON tg GET "${out}" 1 test)
  string(JSON prefill GET "${out}" 0 offload rows 1 prefill accesses)
  string(JSON decode GET "${out}" 1 offload rows 0 decode accesses)
  if(NOT tg STREQUAL "tg4" OR NOT prefill GREATER 0 OR NOT decode GREATER 0)
    failed("bench --json: test '${tg}', prefill accesses ${prefill}, decode ${decode}")
  endif()
endif()

# Perplexity: exact offloading leaves the number as it is; lossy flags change it.
set(ppl perplexity --model "${MODEL}" --file "${TEXT}" --ctx 64 --chunks 2)
function(final_ppl var)
  run_moescope(${ppl} ${ARGN})
  string(REGEX MATCH "Final estimate: PPL = ([0-9.]+)" m "${out}")
  set(${var} "${CMAKE_MATCH_1}" PARENT_SCOPE)
  set(err "${err}" PARENT_SCOPE)
  set(rc "${rc}" PARENT_SCOPE)
endfunction()
final_ppl(resident)
final_ppl(offloaded --expert-slots 4 --policy fifo)
final_ppl(adaptive --adaptive-topk 0.4)
set(adaptive_err "${err}")
final_ppl(substituted --expert-slots 4 --substitute 0.1)
if(resident STREQUAL "" OR NOT offloaded STREQUAL resident)
  failed("perplexity with exact offloading: ${offloaded}, resident ${resident}")
endif()
if(adaptive STREQUAL "" OR adaptive STREQUAL resident OR substituted STREQUAL ""
   OR substituted STREQUAL resident)
  failed("perplexity with lossy gating did not change: resident ${resident}, adaptive "
         "${adaptive}, substituted ${substituted}")
endif()
if(NOT adaptive_err MATCHES "LOSSY gating")
  failed("perplexity --adaptive-topk does not say it is lossy: ${adaptive_err}")
endif()

if(failures GREATER 0)
  message(FATAL_ERROR "${failures} check(s) failed")
endif()
