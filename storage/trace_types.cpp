#include "storage/trace_types.h"

namespace moescope::storage {

std::string_view token_kind_name(TokenKind kind) {
  switch (kind) {
    case TokenKind::kNotRecorded:
      return "not recorded";
    case TokenKind::kNormal:
      return "normal";
    case TokenKind::kBos:
      return "bos";
    case TokenKind::kEos:
      return "eos";
    case TokenKind::kEog:
      return "eog";
    case TokenKind::kControl:
      return "control";
    case TokenKind::kUnknown:
      return "unknown";
  }
  return "not recorded";
}

std::string_view routing_detail_name(RoutingDetail detail) {
  return detail == RoutingDetail::kCounts ? "counts" : "tokens";
}

std::string_view run_status_name(RunStatus status) {
  return status == RunStatus::kComplete ? "complete" : "interrupted";
}

std::string_view access_outcome_name(AccessOutcome outcome) {
  switch (outcome) {
    case AccessOutcome::kNone:
      return "none";
    case AccessOutcome::kHit:
      return "hit";
    case AccessOutcome::kMiss:
      return "miss";
    case AccessOutcome::kBypass:
      return "bypass";
    case AccessOutcome::kPrefetchHit:
      return "prefetch-hit";
    case AccessOutcome::kLateHit:
      return "late-prefetch-hit";
  }
  return "?";
}

std::string_view cache_event_kind_name(CacheEventKind kind) {
  switch (kind) {
    case CacheEventKind::kHit:
      return "hit";
    case CacheEventKind::kMiss:
      return "miss";
    case CacheEventKind::kBypass:
      return "bypass";
    case CacheEventKind::kPrefetchIssued:
      return "prefetch-issued";
    case CacheEventKind::kPrefetchUsed:
      return "prefetch-used";
    case CacheEventKind::kLate:
      return "late";
    case CacheEventKind::kWasted:
      return "wasted";
    case CacheEventKind::kEviction:
      return "eviction";
  }
  return "?";
}

bool is_access_event(CacheEventKind kind) {
  return kind == CacheEventKind::kHit || kind == CacheEventKind::kMiss ||
         kind == CacheEventKind::kBypass || kind == CacheEventKind::kPrefetchUsed ||
         kind == CacheEventKind::kLate;
}

}  // namespace moescope::storage
