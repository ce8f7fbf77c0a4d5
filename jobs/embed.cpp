// `tailflow embed`: item embeddings from a trained content regressor (tailflow train).
//
//   tailflow embed --model reg/model --items new_items.csv --out items.h5
//       content vectors for brand-new catalog rows, without retraining and without `tailflow features`: the
//       rows are encoded with the recipe and frozen tables that `train` copied into the model directory
//       (operators/features/feature_tables.hpp): the same columns, text hashing and idf, vocabularies
//       (unknown values -> id 0), numeric means and standard deviations, image settings and pretrained
//       encoders (their files must still hold the same bytes; --text-encoder / --image-encoder give a new
//       location);
//   tailflow embed --model reg/model --features feat --out items.h5
//       content vectors for every item of a features directory (its tables must be the model's);
//   tailflow embed --model reg/model --features feat --embeddings als/embeddings.h5 --out final.h5
//                  [--blend-beta B] [--als-min N] [--blend-norm count-scale|count|content]
//       the final embeddings of every item: its ALS vector, its content vector, or a blend of the two by its
//       training interaction count (operators/tail/blend.hpp); users/* are copied from the ALS file, so that
//       `tailflow recommend` and `tailflow evaluate --embeddings` read the result like an ALS output.
//   tailflow embed ... --embeddings als/embeddings.h5 --prior --interactions train.csv [--prior-below N]
//                  [--prior-strength L]
//       like the blend, but each tail item (1 .. N-1 interactions) gets its ALS half-step re-solved with the
//       regulariser centred on its content vector (operators/tail/prior_solve.hpp); head items keep ALS.
//
// Writes sharded HDF5: items/ids, items/vectors, items/counts, items/source (uint8; the dataset's attribute
// "codes" names them, e.g. "0=als,1=content,2=blend,3=prior"), and with --embeddings also users/ids,
// users/vectors, users/counts (and biases when the ALS file has them). Each rank predicts its balanced share
// of the feature rows; feature rows and ALS items are joined by external id.
#include <fmt/format.h>

#include <cmath>
#include <filesystem>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/csv_dialect.hpp"
#include "engine/io/sharded_writer.hpp"
#include "engine/stage_metrics.hpp"
#include "jobs/embedding_side.hpp"
#include "jobs/interaction_options.hpp"
#include "jobs/subcommand.hpp"
#include "operators/data/interactions_loader.hpp"
#include "operators/features/feature_cache.hpp"
#include "operators/features/feature_extraction.hpp"
#include "operators/features/feature_tables.hpp"
#include "operators/features/item_catalog.hpp"
#include "operators/features/learning_input.hpp"
#include "operators/learning/pretrained_features.hpp"
#include "operators/learning/regressor.hpp"
#include "operators/metrics/popularity_buckets.hpp"
#include "operators/tail/als_items.hpp"
#include "operators/tail/blend.hpp"
#include "operators/tail/norm_by_count.hpp"
#include "operators/tail/prior_solve.hpp"

namespace tailflow::jobs {
namespace {

namespace fs = std::filesystem;
using ops::tail::EmbeddingSource;

void add_options(po::options_description& options) {
  const ops::tail::BlendOptions defaults;
  // clang-format off
  options.add_options()
    ("model", po::value<std::string>()->required(), "trained regressor (tailflow train: DIR/model)")
    ("items", po::value<std::string>(),
     "catalog rows to embed (CSV/TSV), encoded with the model's own feature tables; or --features")
    ("features", po::value<std::string>(), "features directory of the items to embed; or --items")
    ("items-sep", po::value<std::string>(), "--items: field separator (default: as in training, else detected)")
    ("images-idx", po::value<std::string>(),
     "--items: IDX file of the image column (default: images.idx next to the items file, else training's)")
    ("image-root", po::value<std::string>(), "--items: directory of relative image paths (default: the items file's)")
    ("text-encoder", po::value<std::string>(), "--items: where the model's TorchScript text encoder is now")
    ("image-encoder", po::value<std::string>(), "--items: where the model's TorchScript image encoder is now")
    ("out", po::value<std::string>()->required(), "output embeddings file (.h5, sharded)")
    ("embeddings", po::value<std::string>(), "ALS embeddings: blend ALS and content vectors, copy users/*")
    ("blend-beta", po::value<double>()->default_value(defaults.beta),
     "ALS weight n/(n+B) for an item with n training interactions (0: ALS whenever n > 0)")
    ("als-min", po::value<std::uint64_t>()->default_value(0),
     "items with at least N interactions keep their ALS vector unblended (0: no such cut)")
    ("blend-norm", po::value<std::string>()->default_value("count-scale"),
     "length of the content vector in the blend of an item with interactions: 'count-scale' (scaled by "
     "median ALS length / median content length at the item's count, keeping the content model's "
     "differences), 'count' (the median ALS length at the count) or 'content' (as predicted: the "
     "original blend)")
    ("prior", "instead of blending: re-solve each tail item's ALS half-step around its content vector "
              "(needs --interactions, the file ALS was trained on)")
    ("prior-below", po::value<std::uint64_t>()->default_value(0),
     "--prior: tail items have 1 .. N-1 interactions (0: the 80%-of-interactions head rule)")
    ("prior-strength", po::value<double>(),
     "--prior: lambda of the |x - content|^2 term (default: the ALS lambda, scaled as ALS scaled it; with "
     "implicit feedback Y'Y dwarfs it, so a larger value lets the content vector pull)");
  // clang-format on
  add_interaction_options(options, /*required=*/false);
}

// users/* of the ALS file, this rank's balanced share, written unchanged.
void copy_users(const io::ShardedReader& als, io::ShardedWriter& out, int rank, int ranks) {
  const auto share = als.share("users/vectors", rank, ranks);
  out.write_strings("users/ids", als.read_string_rows("users/ids", share.first, share.count));
  out.write_matrix<float>("users/vectors", als.read_rows<float>("users/vectors", share.first, share.count),
                          als.cols("users/vectors"));
  if (als.has_dataset("users/counts"))
    out.write<std::uint32_t>("users/counts",
                             als.read_rows<std::uint32_t>("users/counts", share.first, share.count));
  if (als.has_dataset("users/biases"))
    out.write<float>("users/biases", als.read_rows<float>("users/biases", share.first, share.count));
}

// The settings that recommend/evaluate read from an ALS file, carried over.
void copy_model_attributes(const io::ShardedReader& als, io::ShardedWriter& out) {
  const auto& master = als.master();
  for (const char* name : {"global_mean", "regularization", "alpha"})
    if (master.has_attribute("/", name)) out.set_attribute("/", name, master.attribute<double>("/", name));
  for (const char* name : {"feedback", "reg_scaling"})
    if (master.has_attribute("/", name)) out.set_attribute("/", name, master.string_attribute("/", name));
  if (master.has_attribute("/", "factors"))
    out.set_attribute("/", "factors", master.attribute<std::int64_t>("/", "factors"));
  out.set_attribute("/", "als_embeddings", als.path().string());
}

// --prior: head items keep ALS, items without interactions take their content vector, tail items are
// re-solved around their content vector from their training interactions (operators/tail/prior_solve.hpp).
std::vector<float> solve_with_prior(Context& ctx, const po::variables_map& vm,
                                    const io::ShardedReader& als_file, const ops::tail::FeatureAlsJoin& join,
                                    std::uint64_t tail_below, const std::vector<float>& als_vectors,
                                    const std::vector<float>& content, std::size_t dims,
                                    std::vector<std::uint8_t>& sources) {
  Stopwatch watch;
  const auto loaded = ops::data::load_interactions(ctx, interaction_load_options(vm));
  const auto user_rows = embedding_rows_of(ctx, read_embedding_side(ctx, als_file, "users"), loaded.users);
  const auto item_rows = embedding_rows_of(ctx, read_embedding_side(ctx, als_file, "items"), loaded.items);
  std::vector<ops::tail::AlsInteraction> interactions;
  std::uint64_t unknown = 0;
  for (const auto& interaction : loaded.local) {
    const auto user = user_rows[interaction.user], item = item_rows[interaction.item];
    if (user == kNoRow || item == kNoRow) {
      ++unknown;
      continue;
    }
    interactions.push_back({item, user, interaction.value});
  }
  unknown = comm::allreduce_sum(ctx.comm(), unknown);
  if (unknown > 0)
    ctx.log().info(
        "embed --prior: warning: {} interactions name a user or item the ALS file does not have; ignored",
        unknown);

  const auto& master = als_file.master();
  ops::tail::PriorSolveSettings settings;
  if (master.has_attribute("/", "feedback"))
    settings.feedback = ops::als::parse_feedback(master.string_attribute("/", "feedback"));
  if (master.has_attribute("/", "alpha")) settings.alpha = master.attribute<double>("/", "alpha");
  if (master.has_attribute("/", "regularization"))
    settings.regularization = master.attribute<double>("/", "regularization");
  if (master.has_attribute("/", "reg_scaling"))
    settings.reg_scaling = ops::als::parse_reg_scaling(master.string_attribute("/", "reg_scaling"));
  if (vm.count("prior-strength")) settings.prior_strength = vm["prior-strength"].as<double>();

  const std::size_t local = join.counts.size();
  std::vector<float> vectors = content;
  std::vector<std::uint8_t> solve(local, 0);
  sources.assign(local, static_cast<std::uint8_t>(EmbeddingSource::kContent));
  for (std::size_t i = 0; i < local; ++i) {
    if (join.counts[i] == 0) continue;
    if (join.counts[i] >= tail_below) {
      std::copy_n(als_vectors.begin() + static_cast<std::ptrdiff_t>(i * dims), dims,
                  vectors.begin() + static_cast<std::ptrdiff_t>(i * dims));
      sources[i] = static_cast<std::uint8_t>(EmbeddingSource::kAls);
    } else {
      solve[i] = 1;
      sources[i] = static_cast<std::uint8_t>(EmbeddingSource::kPrior);
    }
  }
  const auto users = als_file.read_all<float>("users/vectors");
  const auto solved = ops::tail::solve_tail_items_with_prior(ctx, interactions, join.als_rows, solve, users,
                                                             dims, content, settings, vectors);
  ctx.metrics().record(Stage{"prior solve", interactions.size(), solved, 0, watch.seconds()});
  ctx.log().info("embed --prior: tail = 1 .. {} interactions; {} feedback, lambda {}, alpha {}, prior {}",
                 tail_below - 1, ops::als::to_string(settings.feedback), settings.regularization,
                 settings.alpha,
                 settings.prior_strength ? fmt::format("strength {}", *settings.prior_strength)
                                         : std::string("strength = lambda"));
  return vectors;
}

// --blend-norm: the factor of each local content vector (empty for 'content'). Collective for count-scale:
// the content lengths at each count are fitted over every rank's items; the ALS curve over all ALS items,
// which every rank holds.
std::vector<double> content_scales(Context& ctx, ops::tail::ContentNorm norm, const ops::tail::AlsItems& als,
                                   std::span<const std::uint64_t> counts, std::span<const float> content,
                                   std::size_t dims) {
  using ops::tail::NormByCount;
  if (norm == ops::tail::ContentNorm::kAsPredicted) return {};
  const auto als_lengths = NormByCount::fit(als.vectors, als.counts, dims);
  NormByCount content_lengths;
  if (norm == ops::tail::ContentNorm::kAlsScale) {
    std::vector<double> lengths;
    std::vector<std::uint64_t> with_counts;
    for (std::size_t i = 0; i < counts.size(); ++i)
      if (counts[i] > 0) {
        lengths.push_back(ops::tail::vector_length(content.subspan(i * dims, dims)));
        with_counts.push_back(counts[i]);
      }
    content_lengths =
        NormByCount::fit_lengths(comm::allgatherv(ctx.comm(), std::span<const double>(lengths)),
                                 comm::allgatherv(ctx.comm(), std::span<const std::uint64_t>(with_counts)));
  }
  if (ctx.is_root())
    ctx.log().info(
        "embed: --blend-norm {}: median ALS length {:.3f} at 1, {:.3f} at 10, {:.3f} at 100 interactions{}",
        ops::tail::content_norm_name(norm), als_lengths.at(1), als_lengths.at(10), als_lengths.at(100),
        content_lengths.empty()
            ? std::string()
            : fmt::format("; median content length {:.3f}, {:.3f}, {:.3f}", content_lengths.at(1),
                          content_lengths.at(10), content_lengths.at(100)));
  std::vector<double> scales(counts.size());
  for (std::size_t i = 0; i < counts.size(); ++i)
    scales[i] = ops::tail::content_scale(norm, content.subspan(i * dims, dims), counts[i], als_lengths,
                                         content_lengths);
  return scales;
}

// An encoder file, where the recipe says or where the user moved it, with the bytes it had in training.
std::string checked_encoder(const std::string& recorded, const std::string& digest,
                            const po::variables_map& vm, const char* option) {
  const std::string path = vm.count(option) ? vm[option].as<std::string>() : recorded;
  if (!fs::exists(path))
    throw Error(fmt::format("the model's {} '{}' does not exist; give its new location with --{}", option,
                            path, option));
  if (ops::features::file_digest(path) != digest)
    throw Error(
        fmt::format("'{}' is not the {} the model was trained with (its bytes differ)", path, option));
  return path;
}

// The encoder file to use; its digest is checked on rank 0 only (a BERT file is large), the path is the same
// on every rank.
std::string encoder_path(Context& ctx, const std::string& recorded, const std::string& digest,
                         const po::variables_map& vm, const char* option) {
  if (ctx.is_root()) return checked_encoder(recorded, digest, vm, option);
  return vm.count(option) ? vm[option].as<std::string>() : recorded;
}

// --items: the rows of a catalog file, encoded like the training rows (see the file comment). Collective.
ops::features::ItemFeatureBlock featurise_items(Context& ctx, const po::variables_map& vm,
                                                const fs::path& model_dir) {
  std::optional<ops::features::Featurizer> featurizer;
  ops::features::FeatureOptions options;
  ops::features::CatalogOptions catalog_options;
  const std::string items = vm["items"].as<std::string>();
  std::string error;
  try {
    featurizer = ops::features::load_featurizer(model_dir);
    const auto& recipe = featurizer->recipe;
    catalog_options = recipe.catalog;
    catalog_options.path = items;
    catalog_options.absent_columns_are_empty = true;
    if (vm.count("items-sep"))
      catalog_options.separator = io::separator_from_option(vm["items-sep"].as<std::string>());
    options = recipe.features;
    const auto beside = fs::path(items).parent_path() / "images.idx";
    if (vm.count("images-idx"))
      options.images_idx = vm["images-idx"].as<std::string>();
    else if (!options.images_idx.empty() && fs::exists(beside))
      options.images_idx = beside.string();
    options.image_root = vm.count("image-root") ? vm["image-root"].as<std::string>() : std::string();
    if (!options.text_encoder.empty())
      options.text_encoder =
          encoder_path(ctx, options.text_encoder, recipe.text_encoder_digest, vm, "text-encoder");
    if (!options.image_encoder.empty())
      options.image_encoder =
          encoder_path(ctx, options.image_encoder, recipe.image_encoder_digest, vm, "image-encoder");
    if (recipe.had_tags && ctx.is_root())
      ctx.log().info("embed --items: the training text included tags; new rows are encoded without tags");
  } catch (const Error& e) {
    error = e.what();
  }
  ctx.check_collectively(error);
  auto catalog = ops::features::load_catalog(ctx, catalog_options);
  auto block = ops::features::extract_features(ctx, catalog, options, &featurizer->tables);
  ops::learning::add_pretrained_features(ctx, catalog, block, options);
  return block;
}

// --features: a features directory, refused when its tables are not the ones the model was trained on.
ops::features::ItemFeatureBlock read_feature_rows(Context& ctx, const fs::path& features_master,
                                                  const fs::path& model_dir) {
  ops::features::ItemFeatureBlock block;
  std::string error;
  try {
    block = ops::features::read_features(features_master, ctx.rank(), ctx.size());
    if (ops::features::has_featurizer(model_dir)) {
      const auto featurizer = ops::features::load_featurizer(model_dir);
      auto difference = ops::features::table_difference(ops::features::tables_of(block), featurizer.tables);
      const auto recipe = ops::features::read_feature_tables(features_master).recipe;
      if (difference.empty() && !recipe.empty()) {
        const auto theirs = ops::features::recipe_from_text(recipe);
        const auto& ours = featurizer.recipe;
        if (theirs.text_encoder_digest != ours.text_encoder_digest ||
            theirs.image_encoder_digest != ours.image_encoder_digest ||
            theirs.wordpiece_digest != ours.wordpiece_digest)
          difference = "other pretrained encoder or vocab.txt bytes";
      }
      if (!difference.empty())
        throw Error(
            fmt::format("{} was not encoded like the features the model in {} was trained on ({}); embed its "
                        "catalog with "
                        "--items FILE instead, which uses the model's own tables",
                        features_master.string(), model_dir.string(), difference));
    }
  } catch (const Error& e) {
    error = e.what();
  }
  ctx.check_collectively(error);
  return block;
}

int run_embed(Context& ctx, const po::variables_map& vm) {
  Stopwatch watch;
  const fs::path out_path = vm["out"].as<std::string>();
  const fs::path model_dir = vm["model"].as<std::string>();
  if (vm.count("items") == vm.count("features"))
    throw CollectiveError("embed needs either --items FILE (catalog rows) or --features DIR, not both");
  const bool from_items = vm.count("items") > 0;
  const fs::path features_master =
      from_items ? fs::path() : fs::path(vm["features"].as<std::string>()) / "features.h5";
  const std::string input_name = from_items ? vm["items"].as<std::string>() : features_master.string();
  const bool with_als = vm.count("embeddings") > 0;
  ops::tail::BlendOptions blend;
  blend.beta = vm["blend-beta"].as<double>();
  blend.als_min_count = vm["als-min"].as<std::uint64_t>();
  ops::tail::ContentNorm blend_norm = ops::tail::ContentNorm::kAsPredicted;
  try {
    blend_norm = ops::tail::parse_content_norm(vm["blend-norm"].as<std::string>());
  } catch (const Error& e) {
    throw CollectiveError(e.what());
  }
  if (vm.count("prior-strength")) {
    const double strength = vm["prior-strength"].as<double>();
    if (!std::isfinite(strength) || strength <= 0)
      throw CollectiveError(fmt::format("--prior-strength must be a finite number > 0, not {}", strength));
  }

  // Not collective: every rank loads the model and, for blending, the ALS items.
  std::string error;
  std::optional<ops::learning::TrainedRegressor> model;
  std::optional<io::ShardedReader> als_file;
  ops::tail::AlsItems als;
  try {
    ops::tail::validate(blend);
    model = ops::learning::load_regressor(model_dir.string());
    if (with_als) {
      als_file.emplace(vm["embeddings"].as<std::string>());
      als = ops::tail::read_als_items(*als_file);
      if (static_cast<std::int64_t>(als.dims) != model->output_dims())
        throw Error(fmt::format("{} has {} factors but the model in {} predicts {}", als.path.string(),
                                als.dims, model_dir.string(), model->output_dims()));
    }
    if (ctx.is_root() && !out_path.parent_path().empty()) fs::create_directories(out_path.parent_path());
  } catch (const std::exception& e) {
    error = e.what();
  }
  ctx.check_collectively(error);
  // Each rank's share of the items: encoded now from catalog rows, or read from a features directory.
  const ops::features::ItemFeatureBlock block =
      from_items ? featurise_items(ctx, vm, model_dir) : read_feature_rows(ctx, features_master, model_dir);

  const auto input = ops::features::to_learning_input(block);
  error.clear();
  if (input.schema != model->schema())
    error = fmt::format("the features of {} ({}) do not fit the model in {} ({})", input_name,
                        ops::learning::describe(input.schema), model_dir.string(),
                        ops::learning::describe(model->schema()));
  ctx.check_collectively(error);
  Stopwatch predict_watch;
  const std::vector<float> content = ops::learning::predict(*model, input.items);
  ctx.metrics().record(
      Stage{"predict content vectors", block.local_rows(), block.local_rows(), 0, predict_watch.seconds()});
  const auto dims = static_cast<std::size_t>(model->output_dims());

  std::vector<float> vectors;
  std::vector<std::uint8_t> sources(block.local_rows(), static_cast<std::uint8_t>(EmbeddingSource::kContent));
  std::vector<std::uint32_t> counts(block.local_rows(), 0);
  std::vector<float> biases;
  const bool prior = vm.count("prior") > 0;
  if (prior && (!with_als || vm.count("interactions") == 0))
    throw CollectiveError("--prior needs --embeddings (the ALS file) and --interactions (its training file)");
  if (with_als) {
    const auto join = ops::tail::join_features_with_als(ctx, als, block.ids, block.first_row, input_name);
    std::vector<float> als_vectors(block.local_rows() * dims, 0.0f);
    for (std::size_t i = 0; i < block.local_rows(); ++i) {
      counts[i] = static_cast<std::uint32_t>(join.counts[i]);
      if (join.als_rows[i] == ops::tail::kNotInAls) continue;
      const auto a = als.vector(join.als_rows[i]);
      std::copy(a.begin(), a.end(), als_vectors.begin() + static_cast<std::ptrdiff_t>(i * dims));
    }
    if (prior) {
      std::uint64_t tail_below = vm["prior-below"].as<std::uint64_t>();
      if (tail_below == 0)
        tail_below = std::max<std::uint64_t>(1, ops::metrics::default_head_min(als.counts));
      vectors = solve_with_prior(ctx, vm, *als_file, join, tail_below, als_vectors, content, dims, sources);
    } else {
      const auto scales = content_scales(ctx, blend_norm, als, join.counts, content, dims);
      auto blended = ops::tail::blend_items(als_vectors, content, join.counts, dims, blend, scales);
      vectors = std::move(blended.vectors);
      sources = std::move(blended.sources);
    }
    // The content model predicts no bias; its part of the blend counts as bias 0.
    if (!als.biases.empty()) {
      biases.assign(block.local_rows(), 0.0f);
      for (std::size_t i = 0; i < block.local_rows(); ++i)
        if (join.als_rows[i] != ops::tail::kNotInAls)
          biases[i] =
              static_cast<float>(ops::tail::als_weight(join.counts[i], blend) * als.biases[join.als_rows[i]]);
    }
  } else {
    vectors = content;
    for (std::size_t i = 0; i < block.local_rows(); ++i)
      counts[i] =
          static_cast<std::uint32_t>(block.interaction_counts.empty() ? 0 : block.interaction_counts[i]);
  }

  Stopwatch write_watch;
  io::ShardedWriter out(ctx, out_path);
  out.write_strings("items/ids", block.ids);
  out.write_matrix<float>("items/vectors", vectors, dims);
  out.write<std::uint32_t>("items/counts", counts);
  out.write<std::uint8_t>("items/source", sources);
  out.set_attribute("items/source", "codes", ops::tail::source_codes_description());
  if (!biases.empty()) out.write<float>("items/biases", biases);
  if (with_als) {
    copy_users(*als_file, out, ctx.rank(), ctx.size());
    copy_model_attributes(*als_file, out);
    out.set_attribute("/", "mode", prior ? "prior" : "blend");
    out.set_attribute("/", "blend_beta", blend.beta);
    out.set_attribute("/", "als_min", static_cast<std::int64_t>(blend.als_min_count));
    if (!prior) out.set_attribute("/", "blend_norm", std::string(ops::tail::content_norm_name(blend_norm)));
    if (prior && vm.count("prior-strength"))
      out.set_attribute("/", "prior_strength", vm["prior-strength"].as<double>());
  }
  out.set_attribute("/", "model", with_als ? "als+content" : "content");
  out.set_attribute("/", "regressor", vm["model"].as<std::string>());
  out.set_attribute("/", from_items ? "items" : "features", input_name);
  out.set_attribute("/", "ranks", static_cast<std::int64_t>(ctx.size()));
  out.commit();
  ctx.metrics().record(
      Stage{"write embeddings", block.local_rows(), block.local_rows(), 0, write_watch.seconds()});

  // Items per source, over all ranks.
  std::vector<std::uint64_t> per_source(4, 0);
  for (auto code : sources) ++per_source[code];
  comm::allreduce(ctx.comm(), std::span<std::uint64_t>(per_source), comm::ReduceOp::kSum);
  if (ctx.is_root()) {
    fmt::print("embeddings  {}\nitems       {} ({} factors)\n", out_path.string(),
               per_source[0] + per_source[1] + per_source[2] + per_source[3], dims);
    for (std::size_t code = 0; code < per_source.size(); ++code)
      if (per_source[code] > 0)
        fmt::print("  {:<9} {}\n", ops::tail::source_name(static_cast<EmbeddingSource>(code)),
                   per_source[code]);
    fmt::print("seconds     {:.2f}\n", watch.seconds());
  }
  return 0;
}

const SubcommandRegistration registration{Subcommand{
    "embed", "item embeddings from content (and ALS, blended by interaction count) -> sharded HDF5",
    add_options, run_embed}};

}  // namespace
}  // namespace tailflow::jobs
