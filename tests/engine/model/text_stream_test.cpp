// TextStream: stop strings and UTF-8 characters split across token pieces.
#include "engine/model/text_stream.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace moescope {
namespace {

// Feeds pieces one by one; returns everything shown, with "|" between non-empty pushes so tests
// can see when text was released.
std::string stream(TextStream& ts, const std::vector<std::string>& pieces) {
  std::string shown;
  for (const auto& p : pieces) {
    const std::string out = ts.push(p);
    if (!out.empty()) shown += (shown.empty() ? "" : "|") + out;
  }
  const std::string rest = ts.finish();
  if (!rest.empty()) shown += (shown.empty() ? "" : "|") + rest;
  return shown;
}

TEST(TextStream, WithoutStopsTextFlowsThroughUnchanged) {
  TextStream ts;
  EXPECT_EQ(stream(ts, {"Hello", ",", " world"}), "Hello|,| world");
  EXPECT_FALSE(ts.stopped());
}

TEST(TextStream, StopStringSplitAcrossTokensIsCaught) {
  TextStream ts({"\n\n"});
  EXPECT_EQ(stream(ts, {"one", "\n", "\n", "two"}), "one");
  EXPECT_TRUE(ts.stopped());
  EXPECT_EQ(ts.matched_stop(), "\n\n");
}

TEST(TextStream, HeldBackPrefixIsReleasedWhenItTurnsOutNotToBeAStop) {
  TextStream ts({"END"});
  // "EN" could start "END": held back until "o" shows it does not.
  EXPECT_EQ(stream(ts, {"THE ", "EN", "o", "ugh"}), "THE |ENo|ugh");
  EXPECT_FALSE(ts.stopped());
}

TEST(TextStream, StopInsideOnePieceCutsTheRestOfThePiece) {
  TextStream ts({"User:"});
  EXPECT_EQ(stream(ts, {"Fine.", " User: next", " more"}), "Fine.| ");
  EXPECT_TRUE(ts.stopped());
  EXPECT_EQ(ts.push("ignored"), "");
}

TEST(TextStream, EarliestOfSeveralStopsWins) {
  TextStream ts({"bc", "ab"});
  EXPECT_EQ(stream(ts, {"xabc"}), "x");
  EXPECT_EQ(ts.matched_stop(), "ab");
}

TEST(TextStream, StopSpanningThreePieces) {
  TextStream ts({"</answer>"});
  EXPECT_EQ(stream(ts, {"42", "</ans", "wer", ">", "tail"}), "42");
  EXPECT_TRUE(ts.stopped());
}

TEST(TextStream, UnfinishedStopPrefixIsShownAtTheEnd) {
  TextStream ts({"###"});
  EXPECT_EQ(stream(ts, {"a", "##"}), "a|##");
  EXPECT_FALSE(ts.stopped());
}

TEST(TextStream, MultiByteCharactersAreNeverSplit) {
  // "é" is C3 A9, "€" is E2 82 AC, "😀" is F0 9F 98 80, arriving one byte per token.
  TextStream ts;
  EXPECT_EQ(stream(ts, {"\xC3", "\xA9", "\xE2", "\x82", "\xAC", "\xF0", "\x9F", "\x98", "\x80"}),
            "é|€|😀");
}

TEST(TextStream, StopStringMadeOfMultiByteCharacters) {
  TextStream ts({"。"});  // E3 80 82
  EXPECT_EQ(stream(ts, {"好", "\xE3", "\x80", "\x82", "后"}), "好");
  EXPECT_TRUE(ts.stopped());
}

// Byte tokens of a random-weight model can make text that is not UTF-8: it passes through as is
// (never held back forever, never replaced), and stop strings after it are still found.
TEST(TextStream, BytesThatCanNeverBeTextPassThrough) {
  TextStream ts;
  EXPECT_EQ(stream(ts, {"a\xFF", "b", "\xC2", " c", "\xE2\x82"}), "a\xFF|b|\xC2 c|\xE2\x82");
  TextStream stop({"\n"});
  EXPECT_EQ(stream(stop, {"x\xC2", "\n", "y"}), "x|\xC2");
  EXPECT_TRUE(stop.stopped());
}

}  // namespace
}  // namespace moescope
