#include "operators/learning/data_parallel_trainer.hpp"

#include <ATen/CPUGeneratorImpl.h>
#include <fmt/format.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <iterator>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/atomic_output.hpp"
#include "engine/stage_metrics.hpp"
#include "operators/common/seeded_hash.hpp"
#include "operators/learning/distributed_sampler.hpp"
#include "operators/learning/learning_rate_schedule.hpp"

namespace tailflow::ops::learning {
namespace {

double cpu_seconds(clockid_t clock) {
  timespec now{};
  clock_gettime(clock, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}
double process_cpu_seconds() {
  return cpu_seconds(CLOCK_PROCESS_CPUTIME_ID);
}
// This thread's CPU time: the work of one step, unaffected by other processes taking turns on the cores
// (exact with one LibTorch thread per rank; LibTorch's own worker threads are not counted).
double thread_cpu_seconds() {
  return cpu_seconds(CLOCK_THREAD_CPUTIME_ID);
}

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
      optimizer_(model_->parameters(), adamw_options(options)) {
  initialise_parameters(*model_, options_.seed);
  broadcast_parameters();
  build_buckets();
}

void DataParallelTrainer::broadcast_parameters() {
  torch::NoGradGuard no_grad;
  for (torch::Tensor& parameter : model_->parameters())
    ctx_.comm().broadcast(parameter.data_ptr<float>(), parameter.numel() * sizeof(float), 0);
}

void DataParallelTrainer::build_buckets() {
  // Reverse registration order, as back-propagation produces them (the output layer's gradients first), so
  // that a future overlap of communication with the backward pass needs no reordering.
  auto parameters = model_->parameters();
  const std::int64_t bucket_elements =
      std::max<std::int64_t>(1, options_.bucket_bytes / std::int64_t{sizeof(float)});
  GradientBucket bucket;
  for (auto it = parameters.rbegin(); it != parameters.rend(); ++it) {
    bucket.parameters.push_back(*it);
    bucket.elements += it->numel();
    if (bucket.elements >= bucket_elements) {
      buckets_.push_back(std::move(bucket));
      bucket = GradientBucket{};
    }
  }
  if (!bucket.parameters.empty()) buckets_.push_back(std::move(bucket));
}

void DataParallelTrainer::allreduce_gradients(std::int64_t global_batch) {
  torch::NoGradGuard no_grad;
  const double scale = 1.0 / static_cast<double>(global_batch);
  if (ctx_.size() == 1) {  // nothing to sum: skip the packing
    for (torch::Tensor& parameter : model_->parameters())
      if (parameter.grad().defined()) parameter.mutable_grad().mul_(scale);
    return;
  }
  for (GradientBucket& bucket : buckets_) {
    // A rank whose part of the batch was empty has no gradients yet: it contributes zeros.
    for (torch::Tensor& parameter : bucket.parameters)
      if (!parameter.grad().defined()) parameter.mutable_grad() = torch::zeros_like(parameter);
    if (bucket.parameters.size() == 1) {
      torch::Tensor grad = bucket.parameters.front().mutable_grad();
      ctx_.comm().allreduce(grad.data_ptr<float>(), grad.numel(), comm::ElementType::kFloat,
                            comm::ReduceOp::kSum);
      grad.mul_(scale);
      continue;
    }
    std::vector<torch::Tensor> flat_grads;
    for (torch::Tensor& parameter : bucket.parameters) flat_grads.push_back(parameter.grad().reshape(-1));
    torch::Tensor buffer = torch::cat(flat_grads);
    ctx_.comm().allreduce(buffer.data_ptr<float>(), buffer.numel(), comm::ElementType::kFloat,
                          comm::ReduceOp::kSum);
    buffer.mul_(scale);
    std::int64_t offset = 0;
    for (torch::Tensor& parameter : bucket.parameters) {
      torch::Tensor grad = parameter.mutable_grad();
      grad.copy_(buffer.slice(0, offset, offset + grad.numel()).view_as(grad));
      offset += grad.numel();
    }
  }
}

torch::Tensor DataParallelTrainer::summed_loss(const torch::Tensor& predictions,
                                               const torch::Tensor& targets) const {
  if (options_.loss == LossKind::kCosine)
    return (1 - torch::cosine_similarity(predictions, targets, 1, 1e-8)).sum();
  return (predictions - targets).pow(2).mean(1).sum();
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
    loss += summed_loss(predictions, target_rows(data, rows)).item<double>();
  }
  model_->train();
  return comm::allreduce_sum(ctx_.comm(), loss) / static_cast<double>(n);
}

TrainingReport DataParallelTrainer::train(LabelledItems train, LabelledItems validation,
                                          const std::string& fingerprint) {
  if (options_.threads_per_rank > 0) torch::set_num_threads(options_.threads_per_rank);
  const auto n = static_cast<std::int64_t>(train.items.size());
  DistributedSampler sampler(n, options_.batch_size, options_.seed, ctx_.rank(), ctx_.size());
  LearningRateSchedule schedule(options_, sampler.batches_per_epoch());

  TrainingReport report;
  report.train_items = n;
  report.validation_items = static_cast<std::int64_t>(validation.items.size());
  for (const torch::Tensor& parameter : model_->parameters()) report.parameters += parameter.numel();
  report.gradient_buckets = static_cast<std::int64_t>(buckets_.size());

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
    torch::Generator dropout_generator = at::make_generator<at::CPUGeneratorImpl>(
        seeded_hash(options_.seed, kDropoutStream, static_cast<std::uint64_t>(epoch),
                    static_cast<std::uint64_t>(ctx_.rank())));
    EpochReport epoch_report;
    epoch_report.epoch = epoch;
    double loss_sum = 0;
    double allreduce_seconds = 0;
    double optimizer_seconds = 0;
    double compute_cpu_seconds = 0;
    double optimizer_cpu_seconds = 0;
    const double cpu_start = process_cpu_seconds();
    Stopwatch epoch_watch;
    for (std::int64_t batch = 0; batch < sampler.batches_per_epoch(); ++batch) {
      std::vector<std::int64_t> rows = sampler.local_batch(epoch, batch);
      epoch_report.learning_rate = schedule.at(report.steps);
      set_learning_rate(optimizer_, epoch_report.learning_rate);
      const double compute_start = thread_cpu_seconds();
      optimizer_.zero_grad();
      if (!rows.empty()) {
        torch::Tensor predictions =
            model_->forward(make_batch(train.items, schema_, rows), &dropout_generator);
        torch::Tensor loss = summed_loss(predictions, target_rows(train, rows));
        loss.backward();
        loss_sum += loss.item<double>();
      }
      compute_cpu_seconds += thread_cpu_seconds() - compute_start;
      Stopwatch allreduce_watch;
      allreduce_gradients(sampler.global_batch_size(batch));
      allreduce_seconds += allreduce_watch.seconds();
      Stopwatch optimizer_watch;
      const double optimizer_start = thread_cpu_seconds();
      optimizer_.step();
      optimizer_cpu_seconds += thread_cpu_seconds() - optimizer_start;
      optimizer_seconds += optimizer_watch.seconds();
      ++report.steps;
    }
    const double seconds = epoch_watch.seconds();
    epoch_report.cpu_seconds = comm::allreduce_max(ctx_.comm(), process_cpu_seconds() - cpu_start);
    epoch_report.optimizer_seconds = comm::allreduce_max(ctx_.comm(), optimizer_seconds);
    epoch_report.compute_cpu_seconds = comm::allreduce_max(ctx_.comm(), compute_cpu_seconds);
    epoch_report.optimizer_cpu_seconds = comm::allreduce_max(ctx_.comm(), optimizer_cpu_seconds);
    epoch_report.seconds = comm::allreduce_max(ctx_.comm(), seconds);
    epoch_report.allreduce_seconds = comm::allreduce_max(ctx_.comm(), allreduce_seconds);
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
        "regressor epoch {}: train loss {:.5f}{}, lr {:.2e}, {:.2f} s (allreduce {:.2f} s, optimiser "
        "{:.2f} s; CPU {:.2f} s, of which forward/backward {:.2f} s, optimiser {:.2f} s)",
        epoch, epoch_report.train_loss,
        report.validation_items > 0 ? fmt::format(", validation loss {:.5f}", epoch_report.validation_loss)
                                    : "",
        epoch_report.learning_rate, epoch_report.seconds, epoch_report.allreduce_seconds,
        epoch_report.optimizer_seconds, epoch_report.cpu_seconds, epoch_report.compute_cpu_seconds,
        epoch_report.optimizer_cpu_seconds);
    next_epoch = epoch + 1;
    ++epochs_this_run;
    const bool run_ends =
        next_epoch == options_.epochs || report.stopped_early ||
        (options_.max_epochs_this_run > 0 && epochs_this_run >= options_.max_epochs_this_run);
    if (!options_.checkpoint_dir.empty() && (next_epoch % options_.checkpoint_every == 0 || run_ends))
      save_checkpoint(report, next_epoch, bad_epochs, best, fingerprint);
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
