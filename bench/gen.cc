// `claimgate-bench gen`: write the synthetic stream to a JSON lines file (SPEC §7).
#include <fstream>
#include <iostream>

#include "bench/bench.h"
#include "gate/json/json_writer.h"

namespace claimgate::bench {

int RunGen(const StreamOptions& options) {
  std::ofstream out(options.out_path);
  if (!out) {
    std::cerr << "cannot write " << options.out_path << "\n";
    return 2;
  }
  const int64_t written = WriteStream(options.synthetic, options.lines, out);
  std::cout << gate::JsonText({{"lines", written}, {"file", options.out_path}}) << "\n";
  return 0;
}

}  // namespace claimgate::bench
