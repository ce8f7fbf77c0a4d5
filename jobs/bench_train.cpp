// `tailflow bench train`: how fast the content regressor trains, per rank and per epoch, on synthetic items
// shaped like a shop's catalog (hashed text n-grams, a brand, numeric attributes and, by default, a 28×28
// product photo for the CNN tower). Every item is a "head" item; no validation split, so an epoch is pure
// training steps.
//
// Scaling: the global batch stays --batch whatever the rank count (each of N ranks takes batch/N items per
// step), so 1 and N ranks do the same steps and the same arithmetic; --threads-per-rank 1 (the default)
// makes N ranks on N cores a fair comparison with 1 rank on one core.
#include <fmt/format.h>

#include <algorithm>

#include "engine/comm/collectives.hpp"
#include "engine/memory_usage.hpp"
#include "engine/stage_metrics.hpp"
#include "jobs/bench_support.hpp"
#include "jobs/subcommand.hpp"
#include "operators/learning/regressor.hpp"
#include "operators/learning/synthetic_content.hpp"

namespace tailflow::jobs {
namespace {

using namespace ops::learning;

std::vector<std::int64_t> parse_widths(const std::string& text) {
  std::vector<std::int64_t> widths;
  for (const std::string& part : split(text)) widths.push_back(parse_int("hidden", part));
  return widths;
}

int run_bench_train(Context& ctx, const po::variables_map& values) {
  SyntheticContentShape shape;
  shape.dims = values["factors"].as<std::int64_t>();
  shape.text_vocabulary = values["text-buckets"].as<std::int64_t>();
  shape.text_per_item = values["text-per-item"].as<std::int64_t>();
  shape.brands = 50;
  shape.numeric = 3;
  const std::int64_t side = values["image-side"].as<std::int64_t>();
  if (side > 0) {
    shape.image_channels = 1;
    shape.image_side = side;
  }
  shape.noise = 0.1;
  shape.seed = values["data-seed"].as<std::uint64_t>();

  RegressorOptions options;
  options.epochs = values["epochs"].as<std::int64_t>();
  options.batch_size = values["batch"].as<std::int64_t>();
  options.hidden = parse_widths(values["hidden"].as<std::string>());
  options.validation_fraction = 0;
  options.patience = 0;
  options.threads_per_rank = values["threads-per-rank"].as<int>();
  options.bucket_bytes = static_cast<std::int64_t>(values["bucket-mb"].as<double>() * (1 << 20));
  options.sparse_embedding_gradients = values.count("dense-gradients") == 0;
  options.fused_optimizer = values.count("torch-adamw") == 0;

  // Each rank makes its own contiguous share of the items.
  const auto items = values["items"].as<std::uint64_t>();
  const std::uint64_t first =
      items * static_cast<std::uint64_t>(ctx.rank()) / static_cast<std::uint64_t>(ctx.size());
  const std::uint64_t last =
      items * static_cast<std::uint64_t>(ctx.rank() + 1) / static_cast<std::uint64_t>(ctx.size());
  const FeatureSchema schema = synthetic_schema(shape);
  ItemFeatures local = synthetic_items(shape, first, last);
  HeadTargets targets;
  targets.dims = shape.dims;
  targets.vectors = synthetic_targets(shape, local);
  targets.rows.resize(local.size());
  for (std::size_t i = 0; i < local.size(); ++i) targets.rows[i] = static_cast<std::int64_t>(i);
  ctx.log().info(
      "bench train: {} synthetic items ({}), {} factors, {} epochs, global batch {}, {} thread(s) per rank",
      items, describe(schema), shape.dims, options.epochs, options.batch_size, options.threads_per_rank);

  Stopwatch watch;
  TrainedRegressor model = train_content_regressor(ctx, local, schema, targets, options);
  const double total_seconds = comm::allreduce_max(ctx.comm(), watch.seconds());
  const TrainingReport& report = model.report();

  std::vector<double> epoch_seconds, allreduce_seconds, optimizer_seconds, cpu_seconds, compute_cpu,
      exchange_cpu, allreduce_cpu, optimizer_cpu, gradient_bytes, losses;
  for (const EpochReport& epoch : report.epochs) {
    epoch_seconds.push_back(epoch.seconds);
    allreduce_seconds.push_back(epoch.allreduce_seconds);
    optimizer_seconds.push_back(epoch.optimizer_seconds);
    cpu_seconds.push_back(epoch.cpu_seconds);
    compute_cpu.push_back(epoch.compute_cpu_seconds);
    exchange_cpu.push_back(epoch.exchange_cpu_seconds);
    allreduce_cpu.push_back(epoch.allreduce_cpu_seconds);
    gradient_bytes.push_back(epoch.gradient_bytes_per_step);
    optimizer_cpu.push_back(epoch.optimizer_cpu_seconds);
    losses.push_back(epoch.train_loss);
  }
  const double seconds_per_epoch = median(epoch_seconds);
  const double steps_per_epoch =
      static_cast<double>(report.steps) / static_cast<double>(report.epochs.size());
  const double samples_per_second_per_rank =
      static_cast<double>(report.train_items) / seconds_per_epoch / ctx.size();
  // Gradient bytes each rank hands to allreduces per step (the touched embedding rows plus the dense
  // parameters); a ring allreduce moves about 2 (N−1)/N times that per rank; with one rank nothing moves.
  const double allreduced_bytes_per_step = median(gradient_bytes);
  const auto bytes_moved = static_cast<std::uint64_t>(steps_per_epoch * allreduced_bytes_per_step * 2.0 *
                                                      (ctx.size() - 1) / ctx.size());

  JsonObject settings;
  settings.add("items", items)
      .add("factors", shape.dims)
      .add("epochs", options.epochs)
      .add("batch", options.batch_size)
      .add("batch_per_rank", options.batch_size / ctx.size())
      .add("hidden", values["hidden"].as<std::string>())
      .add("text_buckets", shape.text_vocabulary)
      .add("text_per_item", shape.text_per_item)
      .add("image_side", side)
      .add("threads_per_rank", options.threads_per_rank)
      .add("bucket_bytes", options.bucket_bytes)
      .add("sparse_embedding_gradients", options.sparse_embedding_gradients)
      .add("fused_optimizer", options.fused_optimizer)
      .add("features", describe(schema))
      .add("data_seed", shape.seed);

  JsonObject json = bench_header(ctx, "train");
  json.add("seconds_per_epoch", seconds_per_epoch)
      .add("seconds_per_iteration", seconds_per_epoch)  // one iteration = one epoch here
      .add("epoch_seconds", epoch_seconds)
      .add("cpu_seconds_per_epoch", median(cpu_seconds))
      .add("allreduce_seconds_per_epoch", median(allreduce_seconds))
      .add("optimizer_seconds_per_epoch", median(optimizer_seconds))
      .add("compute_cpu_seconds_per_epoch", median(compute_cpu))
      .add("exchange_cpu_seconds_per_epoch", median(exchange_cpu))
      .add("allreduce_cpu_seconds_per_epoch", median(allreduce_cpu))
      .add("optimizer_cpu_seconds_per_epoch", median(optimizer_cpu))
      .add("steps_per_epoch", steps_per_epoch)
      .add("samples_per_second_per_rank", samples_per_second_per_rank)
      .add("samples_per_second", samples_per_second_per_rank * ctx.size())
      .add("parameters", model.parameter_count())
      .add("gradient_buckets", report.gradient_buckets)
      .add("allreduced_bytes_per_step", allreduced_bytes_per_step)
      .add("dense_gradient_bytes_per_step", model.parameter_count() * std::int64_t{sizeof(float)})
      .add("bytes_moved_per_iteration", bytes_moved)
      .add("final_loss", losses.empty() ? 0.0 : losses.back())
      .add("losses", losses)
      .add("total_seconds", total_seconds)
      .add("peak_rss_bytes", max_peak_rss_bytes(ctx))
      .add("settings", settings);
  ctx.log().info(
      "bench train: {:.3f} s per epoch (median of {}), {:.0f} samples/s per rank, {:.3f} s per epoch in "
      "allreduces "
      "({:.2f} MB allreduced per step), final loss {:.4f}",
      seconds_per_epoch, epoch_seconds.size(), samples_per_second_per_rank, median(allreduce_seconds),
      allreduced_bytes_per_step / 1e6, losses.empty() ? 0.0 : losses.back());
  write_bench_json(ctx, values["json"].as<std::string>(), json);
  return 0;
}

const SubcommandRegistration registration{Subcommand{
    "bench train", "content regressor training speed: samples/s per rank, seconds per epoch, scaling",
    [](po::options_description& options) {
      options.add_options()("items", po::value<std::uint64_t>()->default_value(4000), "synthetic items")(
          "factors", po::value<std::int64_t>()->default_value(32), "target (ALS) dimensions")(
          "epochs", po::value<std::int64_t>()->default_value(3), "training epochs")(
          "batch", po::value<std::int64_t>()->default_value(256), "GLOBAL batch size (split over ranks)")(
          "hidden", po::value<std::string>()->default_value("256"), "hidden layer widths, comma-separated")(
          "text-buckets", po::value<std::int64_t>()->default_value(1 << 15), "hashed text vocabulary")(
          "text-per-item", po::value<std::int64_t>()->default_value(20), "text n-grams per item")(
          "image-side", po::value<std::int64_t>()->default_value(28),
          "image side in pixels (0 = no image tower)")("threads-per-rank", po::value<int>()->default_value(1),
                                                       "LibTorch threads per rank (0 = its default)")(
          "bucket-mb", po::value<double>()->default_value(2.0), "gradient allreduce bucket size in MiB")(
          "dense-gradients",
          "allreduce whole embedding tables, not only the rows a batch touched (a baseline)")(
          "torch-adamw", "LibTorch's AdamW step instead of the fused one (a baseline)")(
          "data-seed", po::value<std::uint64_t>()->default_value(7), "seed of the synthetic data")(
          "json", po::value<std::string>()->required(), "write the report here");
    },
    run_bench_train}};

}  // namespace
}  // namespace tailflow::jobs
