// `tailflow train`: the content -> embedding regressor, trained on the head items of an ALS model.
//
//   tailflow train --embeddings als/embeddings.h5 --features feat --out reg [--head-min N] [--epochs E]
//                  [--batch B] [--lr LR] [--hidden 256,128] [--target-normalization standardize|l2|gram|none]
//                  [--loss mse|cosine] [--seed S] [--checkpoint-every N] [--resume] ...
//
// Features and ALS vectors are joined by external item id (operators/tail/als_items.hpp), never by row
// order. Head items are those with at least --head-min training interactions (default: the most popular
// items that hold 80% of all interactions, operators/metrics/popularity_buckets.hpp); their ALS vectors are
// the targets. Writes DIR/model (save_regressor, plus the features' recipe and frozen tables, so that
// `tailflow embed --model DIR/model --items FILE` encodes new catalog rows exactly like the training rows;
// operators/features/feature_tables.hpp), DIR/train_summary.json, and checkpoints in DIR/checkpoint.
#include <fmt/format.h>

#include <filesystem>
#include <unordered_set>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/parse_number.hpp"
#include "engine/json_writer.hpp"
#include "engine/stage_metrics.hpp"
#include "jobs/id_list_file.hpp"
#include "jobs/subcommand.hpp"
#include "operators/features/feature_cache.hpp"
#include "operators/features/feature_tables.hpp"
#include "operators/features/learning_input.hpp"
#include "operators/learning/regressor.hpp"
#include "operators/metrics/popularity_buckets.hpp"
#include "operators/tail/als_items.hpp"
#include "operators/tail/users_gram.hpp"

namespace tailflow::jobs {
namespace {

using namespace ops::learning;
namespace fs = std::filesystem;

void add_options(po::options_description& options) {
  const RegressorOptions d;
  // clang-format off
  options.add_options()
    ("embeddings", po::value<std::string>()->required(), "ALS embeddings (tailflow als: DIR/embeddings.h5)")
    ("features", po::value<std::string>()->required(), "features directory (tailflow features --out)")
    ("out", po::value<std::string>()->required(), "output directory: model/, train_summary.json, checkpoint/")
    ("head-min", po::value<std::uint64_t>()->default_value(0),
     "head items: at least N training interactions (0: the items holding 80% of all interactions)")
    ("exclude-items", po::value<std::string>(),
     "items never used as training targets, one id a line or a CSV with an item id column (protocol A: the "
     "probe items, e.g. DIR/split/probe_items.csv)")
    ("epochs", po::value<std::int64_t>()->default_value(d.epochs), "training epochs")
    ("batch", po::value<std::int64_t>()->default_value(d.batch_size), "GLOBAL batch size (split over ranks)")
    ("lr", po::value<double>()->default_value(d.learning_rate), "AdamW learning rate")
    ("weight-decay", po::value<double>()->default_value(d.weight_decay), "AdamW weight decay")
    ("hidden", po::value<std::string>()->default_value("256"), "hidden layer widths, comma-separated ('' = none)")
    ("dropout", po::value<double>()->default_value(d.dropout), "dropout after each hidden layer")
    ("no-layer-norm", "no layer normalisation in the hidden layers")
    ("ensemble", po::value<std::int64_t>()->default_value(d.ensemble),
     "train N networks (seeds seed .. seed+N-1) and average their predictions")
    ("wide", "wide & deep: add a linear path from every input straight to the outputs")
    ("ridge-path", po::value<std::string>()->default_value(to_string(d.ridge_path)),
     "a ridge regression on the same inputs, solved in closed form, inside the model: off, mix (blended with "
     "the network by a held-out weight) or residual (the network learns what it leaves over)")
    ("ridge-alphas", po::value<std::string>()->default_value("3,10"),
     "ridge path penalties to choose from by held-out MSE, comma-separated")
    ("bag-dims", po::value<std::int64_t>()->default_value(d.bag_dims), "width of each sparse-bag tower")
    ("categorical-dims", po::value<std::int64_t>()->default_value(d.categorical_dims),
     "embedding width per categorical column")
    ("target-normalization", po::value<std::string>()->default_value("standardize"),
     "standardize, l2, gram (the users' score-space metric UᵀU) or none")
    ("loss", po::value<std::string>()->default_value("mse"), "mse or cosine")
    ("count-shrinkage", po::value<double>()->default_value(d.count_shrinkage),
     "C > 0: weigh each head item's loss n/(n+C), n = its training interactions (0: all weigh 1)")
    ("schedule", po::value<std::string>()->default_value("cosine"), "learning-rate schedule: cosine, step, constant")
    ("validation-fraction", po::value<double>()->default_value(d.validation_fraction),
     "head items held out for early stopping")
    ("patience", po::value<std::int64_t>()->default_value(d.patience), "epochs without improvement (0: never stop)")
    ("seed", po::value<std::uint64_t>()->default_value(d.seed), "initial weights, shuffling, validation split")
    ("threads-per-rank", po::value<int>()->default_value(0), "LibTorch threads per rank (0: LibTorch's default)")
    ("checkpoint-every", po::value<std::int64_t>()->default_value(0), "write DIR/checkpoint every N epochs (0: never)")
    ("resume", "continue from DIR/checkpoint when it matches these settings")
    ("max-epochs-this-run", po::value<std::int64_t>()->default_value(0), "stop after N epochs (resume later)");
  // clang-format on
}

std::vector<std::int64_t> parse_widths(const std::string& text) {
  std::vector<std::int64_t> widths;
  std::size_t begin = 0;
  while (begin < text.size()) {
    std::size_t end = text.find(',', begin);
    if (end == std::string::npos) end = text.size();
    const std::string part = text.substr(begin, end - begin);
    std::int64_t width = 0;
    if (io::parse_number(part, width) != io::NumberError::kNone || width < 1)
      throw Error(fmt::format("--hidden: '{}' is not a positive layer width (expected e.g. 256,128)", part));
    widths.push_back(width);
    begin = end + 1;
  }
  return widths;
}

RegressorOptions regressor_options(const po::variables_map& vm, const fs::path& out) {
  RegressorOptions o;
  o.epochs = vm["epochs"].as<std::int64_t>();
  o.batch_size = vm["batch"].as<std::int64_t>();
  o.learning_rate = vm["lr"].as<double>();
  o.weight_decay = vm["weight-decay"].as<double>();
  o.hidden = parse_widths(vm["hidden"].as<std::string>());
  o.dropout = vm["dropout"].as<double>();
  o.layer_norm = vm.count("no-layer-norm") == 0;
  o.ensemble = vm["ensemble"].as<std::int64_t>();
  o.wide = vm.count("wide") > 0;
  o.ridge_path = parse_ridge_path_kind(vm["ridge-path"].as<std::string>());
  o.ridge_alphas.clear();
  for (const std::string& part : split(vm["ridge-alphas"].as<std::string>())) {
    double alpha = 0;
    if (io::parse_number(part, alpha) != io::NumberError::kNone || alpha <= 0)
      throw Error(fmt::format("--ridge-alphas: '{}' is not a positive penalty (expected e.g. 3,10)", part));
    o.ridge_alphas.push_back(alpha);
  }
  o.bag_dims = vm["bag-dims"].as<std::int64_t>();
  o.categorical_dims = vm["categorical-dims"].as<std::int64_t>();
  o.targets = parse_target_normalisation(vm["target-normalization"].as<std::string>());
  o.loss = parse_loss_kind(vm["loss"].as<std::string>());
  o.count_shrinkage = vm["count-shrinkage"].as<double>();
  o.schedule = parse_schedule_kind(vm["schedule"].as<std::string>());
  o.validation_fraction = vm["validation-fraction"].as<double>();
  o.patience = vm["patience"].as<std::int64_t>();
  o.seed = vm["seed"].as<std::uint64_t>();
  o.threads_per_rank = vm["threads-per-rank"].as<int>();
  const auto every = vm["checkpoint-every"].as<std::int64_t>();
  o.resume = vm.count("resume") > 0;
  if (every > 0 || o.resume) {
    o.checkpoint_dir = (out / "checkpoint").string();
    o.checkpoint_every = every > 0 ? every : 1;
  }
  o.max_epochs_this_run = vm["max-epochs-this-run"].as<std::int64_t>();
  validate(o);
  return o;
}

int run_train(Context& ctx, const po::variables_map& vm) {
  Stopwatch watch;
  const fs::path out = vm["out"].as<std::string>();
  const fs::path features_master = fs::path(vm["features"].as<std::string>()) / "features.h5";
  RegressorOptions options;
  try {
    options = regressor_options(vm, out);
  } catch (const Error& e) {
    throw CollectiveError(e.what());  // every rank parsed the same options
  }
  std::string error;
  if (ctx.is_root()) {
    std::error_code code;
    fs::create_directories(out, code);
    if (code)
      error = fmt::format("cannot create the output directory '{}': {}", out.string(), code.message());
  }
  ctx.check_collectively(error);

  // Every rank reads the (small) ALS item table and its share of the features.
  ops::tail::AlsItems als;
  ops::features::ItemFeatureBlock block;
  error.clear();
  try {
    als = ops::tail::read_als_items(io::ShardedReader(vm["embeddings"].as<std::string>()));
    block = ops::features::read_features(features_master, ctx.rank(), ctx.size());
  } catch (const Error& e) {
    error = e.what();
  }
  ctx.check_collectively(error);
  const auto join =
      ops::tail::join_features_with_als(ctx, als, block.ids, block.first_row, features_master.string());
  ctx.log().info("train: {} of {} feature rows have ALS vectors ({} factors){}", join.matched,
                 join.feature_rows, als.dims,
                 join.same_order ? "; feature rows follow the ALS item order" : "; joined by item id");

  std::uint64_t head_min = vm["head-min"].as<std::uint64_t>();
  if (head_min == 0) head_min = std::max<std::uint64_t>(1, ops::metrics::default_head_min(als.counts));

  // Protocol A trains the regressor on head items that are not probe items: their few training interactions
  // give ALS vectors that are mostly noise, and learning them would teach the network that noise.
  std::unordered_set<std::string> excluded;
  if (vm.count("exclude-items")) {
    error.clear();
    try {
      const auto ids = read_id_list(vm["exclude-items"].as<std::string>(), kItemIdColumnNames);
      excluded.insert(ids.begin(), ids.end());
    } catch (const Error& e) {
      error = e.what();
    }
    ctx.check_collectively(error);
  }
  std::uint64_t excluded_targets = 0;

  auto input = ops::features::to_learning_input(block);
  HeadTargets targets;
  targets.dims = static_cast<std::int64_t>(als.dims);
  for (std::size_t i = 0; i < block.local_rows(); ++i) {
    if (join.als_rows[i] == ops::tail::kNotInAls || join.counts[i] < head_min) continue;
    if (excluded.count(block.ids[i])) {
      ++excluded_targets;
      continue;
    }
    targets.rows.push_back(static_cast<std::int64_t>(i));
    targets.counts.push_back(join.counts[i]);
    const auto vector = als.vector(join.als_rows[i]);
    targets.vectors.insert(targets.vectors.end(), vector.begin(), vector.end());
  }
  if (options.targets == TargetNormalisation::kGram) {
    error.clear();
    try {
      targets.users_gram =
          ops::tail::read_users_gram(ctx, io::ShardedReader(vm["embeddings"].as<std::string>()));
    } catch (const Error& e) {
      error = e.what();
    }
    ctx.check_collectively(error);
  }
  std::uint64_t head_items = 0;
  for (auto count : als.counts) head_items += count >= head_min;
  ctx.log().info("train: head-min {} -> {} head items of {} ALS items", head_min, head_items, als.rows());
  if (!excluded.empty()) {
    excluded_targets = comm::allreduce_sum(ctx.comm(), excluded_targets);
    ctx.log().info("train: {} of them excluded by --exclude-items ({} ids listed)", excluded_targets,
                   excluded.size());
  }

  TrainedRegressor model = train_content_regressor(ctx, input.items, input.schema, targets, options);
  const double seconds = watch.seconds();
  const auto& report = model.report();
  std::string featurizer_problem;
  if (ctx.is_root()) {
    save_regressor(model, (out / "model").string());
    try {
      ops::features::save_featurizer(features_master, out / "model");
    } catch (const Error& e) {
      // The model still embeds the rows of a features directory (embed --features); only --items needs this.
      featurizer_problem = e.what();
      ctx.log().info("train: warning: {}", featurizer_problem);
    }
    const double last_train = report.epochs.empty() ? -1 : report.epochs.back().train_loss;
    JsonObject json;
    json.add("embeddings", vm["embeddings"].as<std::string>())
        .add("features", features_master.string())
        .add("head_min", static_cast<std::int64_t>(head_min))
        .add("head_items", static_cast<std::int64_t>(head_items))
        .add("excluded_items", excluded_targets)
        .add("train_items", report.train_items)
        .add("validation_items", report.validation_items)
        .add("parameters", report.parameters)
        .add("ensemble", options.ensemble)
        .add("member_validation_losses", report.member_validation_losses)
        .add("ridge_path", to_string(options.ridge_path))
        .add("ridge_alpha", model.ridge_alpha())
        .add("ridge_weight", model.ridge_weight())
        .add("epochs", static_cast<std::int64_t>(report.epochs.size()))
        .add("best_epoch", report.best_epoch)
        .add("best_validation_loss", report.best_validation_loss)
        .add("final_train_loss", last_train)
        .add("stopped_early", report.stopped_early)
        .add("finished", report.finished)
        .add("ranks", static_cast<std::int64_t>(ctx.size()))
        .add("embeds_new_items", featurizer_problem.empty())
        .add("seconds", seconds);
    write_json_file((out / "train_summary.json").string(), json);
    fmt::print(
        "model             {}\nhead items        {} (head-min {}; {} training, {} held out)\n"
        "parameters        {}\nepochs            {}{}\nfinal train loss  {:.5f}\n"
        "best val loss     {}\n{}seconds           {:.2f}\n",
        (out / "model").string(), head_items, head_min, report.train_items, report.validation_items,
        report.parameters, report.epochs.size(),
        report.stopped_early ? " (stopped early)"
        : report.finished    ? ""
                             : " (unfinished: run again with --resume)",
        last_train,
        report.best_epoch >= 0
            ? fmt::format("{:.5f} (epoch {})", report.best_validation_loss, report.best_epoch)
            : std::string("-"),
        options.ridge_path == RidgePathKind::kOff
            ? std::string()
            : fmt::format("ridge path        {} (alpha {}, weight {:.3f})\n", to_string(options.ridge_path),
                          model.ridge_alpha(), model.ridge_weight()),
        seconds);
  }
  return 0;
}

const SubcommandRegistration registration{Subcommand{
    "train", "content -> ALS embedding regressor on the head items -> DIR/model", add_options, run_train}};

}  // namespace
}  // namespace tailflow::jobs
