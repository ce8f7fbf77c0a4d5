// Summing gradients over ranks for data-parallel training: dense parameters in buckets, embedding tables
// by the rows the global batch touched.
//
// Dense parameters: gradients are packed into buckets of about bucket_bytes (several parameters per buffer,
// one allreduce per bucket — fewer, larger messages), in reverse registration order, as back-propagation
// produces them.
//
// Embedding tables (the text EmbeddingBags, the categorical embeddings): a batch gives non-zero gradients
// only to the rows it looks up — a few thousand of the 2^15 text buckets — so allreducing the whole table
// moves mostly zeros. Every rank holds the whole training set and computes the whole global batch from the
// shared sampler, so every rank knows, without communicating, the union of the rows any rank touched. Only
// those rows' gradients are sent, packed in front of the first dense bucket (one allreduce per step in the
// usual case: every message is a point where ranks wait for each other). Every other row is exactly zero on
// every rank, so its sum is zero too and the result equals the dense exchange. The optimiser step stays
// dense: AdamW's decay and moments move untouched rows as well.
#pragma once

#include <torch/torch.h>

#include <cstdint>
#include <span>
#include <vector>

#include "engine/comm/communicator.hpp"
#include "operators/learning/content_model.hpp"

namespace tailflow::ops::learning {

// What one exchange cost this rank.
struct ExchangeCost {
  std::int64_t values = 0;               // gradient values passed to allreduces (0 on one rank)
  double communication_seconds = 0;      // wall time inside allreduces, waiting for other ranks included
  double communication_cpu_seconds = 0;  // this thread's CPU time inside them (MPI polls while it waits)
};

class GradientExchange {
 public:
  // sparse_tables: exchange embedding tables by touched rows (otherwise they join the dense buckets).
  GradientExchange(comm::Communicator& comm, ContentModelImpl& model, const FeatureSchema& schema,
                   std::int64_t bucket_bytes, bool sparse_tables);

  // Collective. Replaces every parameter's gradient by its sum over ranks divided by global_batch_size (a
  // rank without a gradient, e.g. with an empty share of the batch, contributes zeros). global_rows: the
  // items (rows of `items`) of the whole global batch, the same list on every rank; used only by the sparse
  // exchange.
  ExchangeCost exchange(const ItemFeatures& items, std::span<const std::int64_t> global_rows,
                        std::int64_t global_batch_size);

  std::int64_t dense_buckets() const { return static_cast<std::int64_t>(buckets_.size()); }
  bool sparse_tables() const { return !tables_.empty(); }

 private:
  struct Table {
    torch::Tensor weight;
    bool is_bag = false;  // else a categorical column
    std::size_t index = 0;
  };
  // A gradient, or the listed rows of one, as a part of a message.
  struct Segment {
    torch::Tensor parameter;
    torch::Tensor rows;  // undefined: the whole gradient
  };

  std::vector<std::int64_t> touched_rows(const Table& table, const ItemFeatures& items,
                                         std::span<const std::int64_t> global_rows) const;
  void send(std::vector<Segment>& message, double scale, ExchangeCost& cost);

  comm::Communicator& comm_;
  std::int64_t categorical_columns_ = 0;
  std::vector<Table> tables_;
  std::vector<std::vector<Segment>> buckets_;  // the dense parameters, grouped
};

}  // namespace tailflow::ops::learning
