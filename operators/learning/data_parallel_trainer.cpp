#include "operators/learning/data_parallel_trainer.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/atomic_output.hpp"
#include "engine/stage_metrics.hpp"
#include "engine/stop_request.hpp"
#include "operators/common/seeded_hash.hpp"
#include "operators/learning/cpu_clock.hpp"
#include "operators/learning/distributed_sampler.hpp"
#include "operators/learning/fused_adamw.hpp"
#include "operators/learning/learning_rate_schedule.hpp"

namespace tailflow::ops::learning {
namespace {

// Salts that keep the random streams of different purposes apart.
constexpr std::uint64_t kDropoutStream = 0xd40f0;

torch::optim::AdamWOptions adamw_options(const RegressorOptions& options) {
  return torch::optim::AdamWOptions(options.learning_rate)
      .betas({options.adam_beta1, options.adam_beta2})
      .eps(options.adam_epsilon)
      .weight_decay(options.weight_decay);
}

void set_learning_rate(torch::optim::AdamW& optimizer, double rate) {
  for (auto& group : optimizer.param_groups())
    static_cast<torch::optim::AdamWOptions&>(group.options()).lr(rate);
}

// The columns of the loss history saved in a checkpoint.
enum HistoryColumn {
  kEpoch,
  kTrainLoss,
  kValidationLoss,
  kRate,
  kSeconds,
  kAllreduceSeconds,
  kOptimizerSeconds,
  kCpuSeconds,
  kComputeCpuSeconds,
  kOptimizerCpuSeconds,
  kSamples,
  kExchangeCpuSeconds,
  kGradientBytesPerStep,
  kAllreduceCpuSeconds,
  kColumns
};

torch::Tensor history_tensor(const std::vector<EpochReport>& epochs) {
  torch::Tensor history = torch::zeros({static_cast<std::int64_t>(epochs.size()), kColumns}, torch::kDouble);
  auto rows = history.accessor<double, 2>();
  for (std::size_t i = 0; i < epochs.size(); ++i) {
    const EpochReport& e = epochs[i];
    auto r = static_cast<std::int64_t>(i);
    rows[r][kEpoch] = static_cast<double>(e.epoch);
    rows[r][kTrainLoss] = e.train_loss;
    rows[r][kValidationLoss] = e.validation_loss;
    rows[r][kRate] = e.learning_rate;
    rows[r][kSeconds] = e.seconds;
    rows[r][kAllreduceSeconds] = e.allreduce_seconds;
    rows[r][kOptimizerSeconds] = e.optimizer_seconds;
    rows[r][kCpuSeconds] = e.cpu_seconds;
    rows[r][kComputeCpuSeconds] = e.compute_cpu_seconds;
    rows[r][kOptimizerCpuSeconds] = e.optimizer_cpu_seconds;
    rows[r][kSamples] = static_cast<double>(e.samples);
    rows[r][kExchangeCpuSeconds] = e.exchange_cpu_seconds;
    rows[r][kGradientBytesPerStep] = e.gradient_bytes_per_step;
    rows[r][kAllreduceCpuSeconds] = e.allreduce_cpu_seconds;
  }
  return history;
}

std::vector<EpochReport> history_from(const torch::Tensor& history) {
  std::vector<EpochReport> epochs;
  auto rows = history.accessor<double, 2>();
  for (std::int64_t r = 0; r < history.size(0); ++r) {
    EpochReport e;
    e.epoch = static_cast<std::int64_t>(rows[r][kEpoch]);
    e.train_loss = rows[r][kTrainLoss];
    e.validation_loss = rows[r][kValidationLoss];
    e.learning_rate = rows[r][kRate];
    e.seconds = rows[r][kSeconds];
    e.allreduce_seconds = rows[r][kAllreduceSeconds];
    e.optimizer_seconds = rows[r][kOptimizerSeconds];
    e.cpu_seconds = rows[r][kCpuSeconds];
    e.compute_cpu_seconds = rows[r][kComputeCpuSeconds];
    e.optimizer_cpu_seconds = rows[r][kOptimizerCpuSeconds];
    e.samples = static_cast<std::int64_t>(rows[r][kSamples]);
    if (history.size(1) > kExchangeCpuSeconds) e.exchange_cpu_seconds = rows[r][kExchangeCpuSeconds];
    if (history.size(1) > kGradientBytesPerStep) e.gradient_bytes_per_step = rows[r][kGradientBytesPerStep];
    if (history.size(1) > kAllreduceCpuSeconds) e.allreduce_cpu_seconds = rows[r][kAllreduceCpuSeconds];
    epochs.push_back(e);
  }
  return epochs;
}

std::vector<torch::Tensor> copy_parameters(const ContentModel& model) {
  std::vector<torch::Tensor> copies;
  for (const torch::Tensor& parameter : model->parameters()) copies.push_back(parameter.detach().clone());
  return copies;
}

}  // namespace

DataParallelTrainer::DataParallelTrainer(Context& ctx, ContentModel model, const FeatureSchema& schema,
                                         const RegressorOptions& options)
    : ctx_(ctx),
      model_(std::move(model)),
      schema_(schema),
      options_(options),
      optimizer_(model_->parameters(), adamw_options(options)),
      exchange_(ctx.comm(), *model_, schema, options.bucket_bytes, options.sparse_embedding_gradients) {
  initialise_parameters(*model_, options_.seed);
  broadcast_parameters();
}

void DataParallelTrainer::broadcast_parameters() {
  torch::NoGradGuard no_grad;
  for (torch::Tensor& parameter : model_->parameters())
    ctx_.comm().broadcast(parameter.data_ptr<float>(), parameter.numel() * sizeof(float), 0);
}

// Undefined rather than zero (PyTorch's set_to_none): back-propagation then stores each new gradient
// instead of adding it to a zeroed one — two fewer passes over the large embedding tables per step.
void DataParallelTrainer::clear_gradients() {
  for (torch::Tensor& parameter : model_->parameters()) parameter.mutable_grad() = torch::Tensor();
}

torch::Tensor DataParallelTrainer::summed_loss(const torch::Tensor& predictions, const torch::Tensor& targets,
                                               const torch::Tensor& weights) const {
  torch::Tensor per_item = options_.loss == LossKind::kCosine
                               ? 1 - torch::cosine_similarity(predictions, targets, 1, 1e-8)
                               : (predictions - targets).pow(2).mean(1);
  return weights.defined() ? (per_item * weights).sum() : per_item.sum();
}

torch::Tensor DataParallelTrainer::weight_rows(LabelledItems data, std::span<const std::int64_t> rows) {
  if (data.weights == nullptr) return {};
  torch::Tensor out = torch::empty({static_cast<std::int64_t>(rows.size())}, torch::kFloat);
  for (std::size_t i = 0; i < rows.size(); ++i) out.data_ptr<float>()[i] = (*data.weights)[rows[i]];
  return out;
}

torch::Tensor DataParallelTrainer::target_rows(LabelledItems data, std::span<const std::int64_t> rows) const {
  const std::int64_t k = model_->outputs();
  torch::Tensor out = torch::empty({static_cast<std::int64_t>(rows.size()), k}, torch::kFloat);
  float* target = out.data_ptr<float>();
  for (std::size_t i = 0; i < rows.size(); ++i)
    std::copy_n(data.targets.data() + rows[i] * k, k, target + static_cast<std::int64_t>(i) * k);
  return out;
}

double DataParallelTrainer::evaluate(LabelledItems data) {
  const auto n = static_cast<std::int64_t>(data.items.size());
  if (n == 0) return -1;
  torch::NoGradGuard no_grad;
  model_->eval();
  const std::int64_t begin = ctx_.rank() * n / ctx_.size();
  const std::int64_t end = (ctx_.rank() + 1) * n / ctx_.size();
  double loss = 0;
  std::vector<std::int64_t> rows;
  for (std::int64_t start = begin; start < end; start += options_.predict_batch_size) {
    rows.clear();
    for (std::int64_t row = start; row < std::min(end, start + options_.predict_batch_size); ++row)
      rows.push_back(row);
    torch::Tensor predictions = model_->forward(make_batch(data.items, schema_, rows));
    loss += summed_loss(predictions, target_rows(data, rows), weight_rows(data, rows)).item<double>();
  }
  model_->train();
  return comm::allreduce_sum(ctx_.comm(), loss) / static_cast<double>(n);
}

TrainingReport DataParallelTrainer::train(LabelledItems train, LabelledItems validation,
                                          const std::string& fingerprint) {
  if (options_.threads_per_rank > 0) torch::set_num_threads(options_.threads_per_rank);
  const auto n = static_cast<std::int64_t>(train.items.size());
  DistributedSampler sampler(n, options_.batch_size, options_.seed, ctx_.rank(), ctx_.size());
  // The whole global batches, which every rank can compute: they name the embedding rows any rank touches.
  DistributedSampler whole_batches(n, options_.batch_size, options_.seed, 0, 1);
  LearningRateSchedule schedule(options_, sampler.batches_per_epoch());

  TrainingReport report;
  report.train_items = n;
  report.validation_items = static_cast<std::int64_t>(validation.items.size());
  for (const torch::Tensor& parameter : model_->parameters()) report.parameters += parameter.numel();
  report.gradient_buckets = exchange_.dense_buckets();

  std::int64_t next_epoch = 0;
  std::int64_t bad_epochs = 0;
  std::vector<torch::Tensor> best;
  if (!options_.checkpoint_dir.empty() && options_.resume &&
      restore_checkpoint(report, next_epoch, bad_epochs, best, fingerprint))
    report.resumed_from_epoch = next_epoch;

  std::int64_t epochs_this_run = 0;
  model_->train();
  while (next_epoch < options_.epochs && !report.stopped_early) {
    if (options_.max_epochs_this_run > 0 && epochs_this_run >= options_.max_epochs_this_run) break;
    const std::int64_t epoch = next_epoch;
    const std::uint64_t dropout_epoch_key =
        seeded_hash(options_.seed, kDropoutStream, static_cast<std::uint64_t>(epoch));
    EpochReport epoch_report;
    epoch_report.epoch = epoch;
    double loss_sum = 0;
    double allreduce_seconds = 0;
    double optimizer_seconds = 0;
    double compute_cpu_seconds = 0;
    double exchange_cpu_seconds = 0;
    double allreduce_cpu_seconds = 0;
    double optimizer_cpu_seconds = 0;
    std::int64_t exchanged_values = 0;
    const double cpu_start = process_cpu_seconds();
    Stopwatch epoch_watch;
    for (std::int64_t batch = 0; batch < sampler.batches_per_epoch(); ++batch) {
      std::vector<std::int64_t> rows = sampler.local_batch(epoch, batch);
      epoch_report.learning_rate = schedule.at(report.steps);
      set_learning_rate(optimizer_, epoch_report.learning_rate);
      const double compute_start = thread_cpu_seconds();
      clear_gradients();
      if (!rows.empty()) {
        FeatureBatch features = make_batch(train.items, schema_, rows);
        if (options_.dropout > 0)
          for (std::int64_t row : rows)
            features.dropout_keys.push_back(seeded_hash(dropout_epoch_key,
                                                        static_cast<std::uint64_t>(report.steps),
                                                        static_cast<std::uint64_t>(row)));
        torch::Tensor predictions = model_->forward(features);
        torch::Tensor loss = summed_loss(predictions, target_rows(train, rows), weight_rows(train, rows));
        loss.backward();
        loss_sum += loss.item<double>();
      }
      compute_cpu_seconds += thread_cpu_seconds() - compute_start;
      const double exchange_start = thread_cpu_seconds();
      const std::vector<std::int64_t> global_rows =
          exchange_.sparse_tables() ? whole_batches.local_batch(epoch, batch) : std::vector<std::int64_t>{};
      const ExchangeCost cost =
          exchange_.exchange(train.items, global_rows, sampler.global_batch_size(batch));
      // Packing, scaling and unpacking; the time inside allreduces (mostly waiting) is counted apart.
      exchange_cpu_seconds += thread_cpu_seconds() - exchange_start - cost.communication_cpu_seconds;
      allreduce_seconds += cost.communication_seconds;
      allreduce_cpu_seconds += cost.communication_cpu_seconds;
      exchanged_values += cost.values;
      Stopwatch optimizer_watch;
      const double optimizer_start = thread_cpu_seconds();
      if (options_.fused_optimizer)
        fused_adamw_step(optimizer_);
      else
        optimizer_.step();
      optimizer_cpu_seconds += thread_cpu_seconds() - optimizer_start;
      optimizer_seconds += optimizer_watch.seconds();
      ++report.steps;
    }
    const double seconds = epoch_watch.seconds();
    epoch_report.cpu_seconds = comm::allreduce_max(ctx_.comm(), process_cpu_seconds() - cpu_start);
    epoch_report.optimizer_seconds = comm::allreduce_max(ctx_.comm(), optimizer_seconds);
    epoch_report.compute_cpu_seconds = comm::allreduce_max(ctx_.comm(), compute_cpu_seconds);
    epoch_report.exchange_cpu_seconds = comm::allreduce_max(ctx_.comm(), exchange_cpu_seconds);
    epoch_report.allreduce_cpu_seconds = comm::allreduce_max(ctx_.comm(), allreduce_cpu_seconds);
    epoch_report.optimizer_cpu_seconds = comm::allreduce_max(ctx_.comm(), optimizer_cpu_seconds);
    epoch_report.seconds = comm::allreduce_max(ctx_.comm(), seconds);
    epoch_report.allreduce_seconds = comm::allreduce_max(ctx_.comm(), allreduce_seconds);
    epoch_report.gradient_bytes_per_step =
        static_cast<double>(exchanged_values) * sizeof(float) /
        static_cast<double>(std::max<std::int64_t>(1, sampler.batches_per_epoch()));
    epoch_report.train_loss =
        comm::allreduce_sum(ctx_.comm(), loss_sum) / static_cast<double>(std::max<std::int64_t>(1, n));
    epoch_report.samples = n;
    if (report.validation_items > 0) {
      epoch_report.validation_loss = evaluate(validation);
      if (report.best_epoch < 0 || epoch_report.validation_loss < report.best_validation_loss) {
        report.best_epoch = epoch;
        report.best_validation_loss = epoch_report.validation_loss;
        best = copy_parameters(model_);
        bad_epochs = 0;
      } else if (options_.patience > 0 && ++bad_epochs >= options_.patience) {
        report.stopped_early = true;
      }
    }
    report.epochs.push_back(epoch_report);
    ctx_.log().info(
        "regressor epoch {}: train loss {:.5f}{}, lr {:.2e}, {:.2f} s (in allreduces {:.2f} s, "
        "{:.2f} MB/step; optimiser {:.2f} s); CPU {:.2f} s: forward/backward {:.2f}, exchange {:.2f} + in "
        "allreduces {:.2f}, optimiser {:.2f}",
        epoch, epoch_report.train_loss,
        report.validation_items > 0 ? fmt::format(", validation loss {:.5f}", epoch_report.validation_loss)
                                    : "",
        epoch_report.learning_rate, epoch_report.seconds, epoch_report.allreduce_seconds,
        epoch_report.gradient_bytes_per_step / 1e6, epoch_report.optimizer_seconds, epoch_report.cpu_seconds,
        epoch_report.compute_cpu_seconds, epoch_report.exchange_cpu_seconds,
        epoch_report.allreduce_cpu_seconds, epoch_report.optimizer_cpu_seconds);
    next_epoch = epoch + 1;
    ++epochs_this_run;
    const bool run_ends =
        next_epoch == options_.epochs || report.stopped_early ||
        (options_.max_epochs_this_run > 0 && epochs_this_run >= options_.max_epochs_this_run);
    const bool checkpoint_due =
        !options_.checkpoint_dir.empty() && (next_epoch % options_.checkpoint_every == 0 || run_ends);
    if (checkpoint_due) save_checkpoint(report, next_epoch, bad_epochs, best, fingerprint);
    // A stop signal: end here, at the epoch boundary every rank agrees on. Once the run ends anyway there
    // is nothing left to resume, so it just finishes.
    if (!run_ends && stop_requested(ctx_.comm())) {
      if (options_.checkpoint_dir.empty())
        throw StopRequested(fmt::format(
            "regressor training stopped after {} of {} epochs without a checkpoint (checkpointing is off); "
            "a rerun starts again from the first epoch — use --checkpoint-every N to be able to resume",
            epoch + 1, options_.epochs));
      if (!checkpoint_due) save_checkpoint(report, next_epoch, bad_epochs, best, fingerprint);
      throw StopRequested(fmt::format(
          "regressor training stopped after {} of {} epochs; checkpoint '{}' written — rerun the same "
          "command with --resume to continue from epoch {} (the log counts epochs from 0)",
          epoch + 1, options_.epochs, checkpoint_path(), next_epoch));
    }
  }
  report.finished = next_epoch >= options_.epochs || report.stopped_early;
  if (report.finished && options_.restore_best && !best.empty()) {
    torch::NoGradGuard no_grad;
    auto parameters = model_->parameters();
    for (std::size_t i = 0; i < parameters.size(); ++i) parameters[i].copy_(best[i]);
  }
  model_->eval();
  return report;
}

std::string DataParallelTrainer::checkpoint_path() const {
  return (std::filesystem::path(options_.checkpoint_dir) / "regressor.ckpt").string();
}

void DataParallelTrainer::save_checkpoint(const TrainingReport& report, std::int64_t next_epoch,
                                          std::int64_t bad_epochs, const std::vector<torch::Tensor>& best,
                                          const std::string& fingerprint) {
  std::string failure;
  if (ctx_.is_root()) {
    try {
      torch::serialize::OutputArchive archive;
      torch::serialize::OutputArchive model_archive;
      model_->save(model_archive);
      archive.write("model", model_archive);
      torch::serialize::OutputArchive optimizer_archive;
      optimizer_.save(optimizer_archive);
      archive.write("optimizer", optimizer_archive);
      archive.write("fingerprint", c10::IValue(fingerprint));
      archive.write("next_epoch", c10::IValue(next_epoch));
      archive.write("steps", c10::IValue(report.steps));
      archive.write("bad_epochs", c10::IValue(bad_epochs));
      archive.write("best_epoch", c10::IValue(report.best_epoch));
      archive.write("best_validation_loss", c10::IValue(report.best_validation_loss));
      archive.write("stopped_early", c10::IValue(report.stopped_early));
      archive.write("history", history_tensor(report.epochs));
      archive.write("best_count", c10::IValue(static_cast<std::int64_t>(best.size())));
      for (std::size_t i = 0; i < best.size(); ++i) archive.write(fmt::format("best_{}", i), best[i]);
      std::filesystem::create_directories(options_.checkpoint_dir);
      io::AtomicOutput output(checkpoint_path());
      archive.save_to(output.temporary_path().string());
      output.commit();
    } catch (const std::exception& error) {
      failure =
          fmt::format("cannot write the regressor checkpoint '{}': {}", checkpoint_path(), error.what());
    }
  }
  ctx_.check_collectively(failure);
}

bool DataParallelTrainer::restore_checkpoint(TrainingReport& report, std::int64_t& next_epoch,
                                             std::int64_t& bad_epochs, std::vector<torch::Tensor>& best,
                                             const std::string& fingerprint) {
  // Rank 0 reads the file and shares its bytes: the other ranks need no access to the same file system.
  std::vector<char> bytes;
  std::string failure;
  if (ctx_.is_root() && std::filesystem::exists(checkpoint_path())) {
    std::ifstream file(checkpoint_path(), std::ios::binary);
    bytes.assign(std::istreambuf_iterator<char>(file), std::istreambuf_iterator<char>());
    if (!file && !file.eof()) failure = fmt::format("cannot read the checkpoint '{}'", checkpoint_path());
  }
  ctx_.check_collectively(failure);
  comm::broadcast_vector(ctx_.comm(), bytes, 0);
  if (bytes.empty()) return false;

  torch::serialize::InputArchive archive;
  archive.load_from(bytes.data(), bytes.size());
  c10::IValue value;
  archive.read("fingerprint", value);
  if (value.toStringRef() != fingerprint)
    throw Error(
        fmt::format("the checkpoint '{}' belongs to a run with other settings or data; delete it or "
                    "choose another checkpoint directory",
                    checkpoint_path()));
  torch::serialize::InputArchive model_archive;
  archive.read("model", model_archive);
  model_->load(model_archive);
  torch::serialize::InputArchive optimizer_archive;
  archive.read("optimizer", optimizer_archive);
  optimizer_.load(optimizer_archive);
  auto read_int = [&](const char* key) {
    archive.read(key, value);
    return value.toInt();
  };
  next_epoch = read_int("next_epoch");
  report.steps = read_int("steps");
  bad_epochs = read_int("bad_epochs");
  report.best_epoch = read_int("best_epoch");
  archive.read("best_validation_loss", value);
  report.best_validation_loss = value.toDouble();
  archive.read("stopped_early", value);
  report.stopped_early = value.toBool();
  torch::Tensor history;
  archive.read("history", history);
  report.epochs = history_from(history);
  best.clear();
  for (std::int64_t i = 0, count = read_int("best_count"); i < count; ++i) {
    torch::Tensor tensor;
    archive.read(fmt::format("best_{}", i), tensor);
    best.push_back(tensor);
  }
  ctx_.log().info("regressor: resumed from '{}' at epoch {}", checkpoint_path(), next_epoch);
  return true;
}

}  // namespace tailflow::ops::learning
