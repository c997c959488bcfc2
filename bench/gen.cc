// `claimgate-bench gen`: write the synthetic stream to a JSON lines file (SPEC §7).
#include <fstream>
#include <iostream>

#include "absl/strings/str_format.h"
#include "bench/bench.h"

namespace claimgate::bench {

int RunGen(const StreamOptions& options) {
  std::ofstream out(options.out_path);
  if (!out) {
    std::cerr << "cannot write " << options.out_path << "\n";
    return 2;
  }
  const int64_t written = WriteStream(options.synthetic, options.lines, out);
  std::cout << absl::StrFormat("{\"lines\":%d,\"file\":\"%s\"}\n", written, options.out_path);
  return 0;
}

}  // namespace claimgate::bench
