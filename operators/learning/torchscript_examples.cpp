#include "operators/learning/torchscript_examples.hpp"

#include <fmt/format.h>
#include <torch/script.h>

#include "engine/error.hpp"
#include "engine/io/atomic_output.hpp"

namespace tailflow::ops::learning {
namespace {

torch::Tensor matrix(const std::vector<float>& values, std::int64_t rows, std::int64_t columns) {
  if (values.size() != static_cast<std::size_t>(rows * columns))
    throw Error(
        fmt::format("example encoder: {} values do not fill a {}×{} matrix", values.size(), rows, columns));
  return torch::tensor(values).reshape({rows, columns});
}

void save_atomically(torch::jit::Module& module, const std::string& path) {
  io::AtomicOutput output(path);
  module.save(output.temporary_path().string());
  output.commit();
}

}  // namespace

void write_example_text_encoder(const std::string& path, std::int64_t vocabulary, std::int64_t hidden,
                                const std::vector<float>& table) {
  torch::jit::Module module("ExampleTextEncoder");
  module.register_parameter("table", matrix(table, vocabulary, hidden), false);
  module.define(R"(
def forward(self, input_ids, attention_mask):
    hidden = torch.embedding(self.table, input_ids) * attention_mask.unsqueeze(-1).float()
    return (hidden, hidden[:, 0])
)");
  save_atomically(module, path);
}

void write_example_image_encoder(const std::string& path, std::int64_t channels, std::int64_t outputs,
                                 const std::vector<float>& projection) {
  torch::jit::Module module("ExampleImageEncoder");
  module.register_parameter("projection", matrix(projection, channels * 4, outputs), false);
  module.define(R"(
def forward(self, pixels):
    pooled = torch.flatten(torch.adaptive_avg_pool2d(pixels, [2, 2]), 1)
    return torch.matmul(pooled, self.projection).unsqueeze(-1).unsqueeze(-1)
)");
  save_atomically(module, path);
}

}  // namespace tailflow::ops::learning
