// `tailflow evaluate`: how well embeddings rank held-out interactions, next to the popularity and random
// baselines, on the definitions of ../shared/design/EVALUATION.md (protocol B with --buckets).
//
//   1. Train and test files are read with the interaction options; their external ids are matched to the
//      embedding rows. Test users without an embedding are skipped, test items without one cannot be ranked:
//      both are counted and reported, never silently dropped.
//   2. For every test user with at least one relevant test item (value >= --relevance-threshold; default:
//      every test interaction), each source ranks all catalog items the user has not interacted with in
//      training (exact, distributed top-K, operators/knn). Sources: `als` (user·item, + item bias when the
//      embeddings have biases), `popularity` (training count) and `random` (all scores equal); equal scores
//      are ordered by a seeded hash, so ties never favour low item ids.
//   3. Precision/Recall/NDCG/MAP@K per user, averaged with 95% bootstrap intervals over users; catalog
//      coverage of the top-K lists. With --buckets also per popularity bucket (head/tail by training counts),
//      each ranking only the items of its bucket. With --protocol A the only catalog is the probe items of a
//      few-shot split (protocol A of EVALUATION.md).
//   4. With explicit feedback also RMSE/MAE on the test ratings: ALS (mean + biases + user·item when trained
//      with biases), the global mean, and the damped mean-plus-biases baseline fitted on train.
// The report is a table on rank 0 and a JSON file.
#include <fmt/format.h>

#include <optional>
#include <unordered_set>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/sharded_reader.hpp"
#include "engine/json_writer.hpp"
#include "jobs/embedding_side.hpp"
#include "jobs/id_list_file.hpp"
#include "jobs/interaction_options.hpp"
#include "jobs/ranked_output.hpp"
#include "jobs/subcommand.hpp"
#include "operators/knn/distributed_scorer.hpp"
#include "operators/knn/exclusion_lists.hpp"
#include "operators/knn/row_ownership.hpp"
#include "operators/metrics/bias_baseline.hpp"
#include "operators/metrics/popularity_buckets.hpp"
#include "operators/metrics/ranking_metrics.hpp"

namespace tailflow::jobs {
namespace {

using ops::ItemIndex;
using ops::knn::ExclusionLists;
using ops::knn::RowMatrix;
namespace metrics = ops::metrics;

struct EvaluateSettings {
  std::size_t k = 10;
  std::optional<double> relevance_threshold;  // none: every test interaction is relevant
  std::string feedback;                       // implicit | explicit
  std::string protocol = "B";  // A: rank only the probe items (few-shot split); B: all items (and buckets)
  std::filesystem::path probe_items;
  bool buckets = false;
  std::uint64_t head_min = 0;  // 0: default (80% of training interactions)
  std::uint64_t seed = 0;
  std::size_t bootstrap_samples = 1000;
  double bias_damping = 10;
};

// The items one ranking may return: all items, or one popularity bucket. Catalog indices number the
// catalog's items in embedding-row order, so each rank's share of the catalog stays contiguous.
struct Catalog {
  std::string name;
  std::vector<std::uint32_t> index_of_row;  // global item row -> catalog index, kNoRow outside; every rank
  std::uint64_t size = 0;
  std::vector<std::uint64_t> local_rows;  // this rank's item rows (local) in the catalog, ascending
  std::uint64_t first_index = 0;          // catalog index of local_rows.front()
};

template <class InCatalog>
Catalog make_catalog(const std::string& name, const EmbeddingSide& items, InCatalog in_catalog) {
  Catalog catalog;
  catalog.name = name;
  catalog.index_of_row.assign(items.total_rows, kNoRow);
  for (std::uint64_t row = 0; row < items.total_rows; ++row) {
    if (!in_catalog(row)) continue;
    if (row < items.first_row) ++catalog.first_index;
    if (row >= items.first_row && row < items.first_row + items.local_rows())
      catalog.local_rows.push_back(row - items.first_row);
    catalog.index_of_row[row] = static_cast<std::uint32_t>(catalog.size++);
  }
  return catalog;
}

// Lists of global item rows as lists of catalog indices (items outside the catalog dropped; order kept).
ExclusionLists in_catalog(const ExclusionLists& lists, const Catalog& catalog) {
  ExclusionLists result;
  for (std::size_t list = 0; list < lists.size(); ++list) {
    for (ItemIndex row : lists[list])
      if (catalog.index_of_row[row] != kNoRow) result.entries.push_back(catalog.index_of_row[row]);
    result.close_list();
  }
  return result;
}

// The test users this rank ranks for: their vectors (user rows), ids, training items and relevant items.
struct Queries {
  std::vector<std::uint64_t> local_rows;
  std::vector<std::uint64_t> global_rows;
  ExclusionLists seen;      // training items, global item rows
  ExclusionLists relevant;  // relevant test items, global item rows, sorted
};

struct SourceResult {
  metrics::RankingReport report;
  double coverage = 0;
};

// Ranks `catalog` for the queries that have a relevant item in it, by query_vectors · item_vectors (item
// vectors of this rank's catalog items), and scores the lists.
SourceResult rank_catalog(Context& ctx, const EvaluateSettings& settings, const Catalog& catalog,
                          const Queries& queries, const ExclusionLists& seen, const ExclusionLists& relevant,
                          const RowMatrix& query_vectors, const RowMatrix& item_vectors) {
  std::vector<std::uint64_t> kept;  // queries with ≥ 1 relevant item in this catalog
  for (std::size_t q = 0; q < relevant.size(); ++q)
    if (!relevant[q].empty()) kept.push_back(q);
  RowMatrix kept_vectors = select_rows(query_vectors, kept);
  std::vector<std::uint64_t> kept_ids;
  ExclusionLists kept_seen;
  for (auto q : kept) {
    kept_ids.push_back(queries.global_rows[q]);
    kept_seen.entries.insert(kept_seen.entries.end(), seen[q].begin(), seen[q].end());
    kept_seen.close_list();
  }
  ops::knn::ScoringOptions options;
  options.k = settings.k;
  options.seed = settings.seed;
  const auto lists = ops::knn::top_k_by_dot_product(ctx, ops::knn::QuerySet{kept_vectors, kept_ids},
                                                    ops::knn::FactorSlice{item_vectors, catalog.first_index},
                                                    &kept_seen, options);
  std::vector<metrics::UserScores> scores;
  std::vector<ItemIndex> recommended, ranked;
  for (std::size_t i = 0; i < kept.size(); ++i) {
    ranked.clear();
    for (const auto& scored : lists[i]) ranked.push_back(scored.item);
    recommended.insert(recommended.end(), ranked.begin(), ranked.end());
    scores.push_back({kept_ids[i], metrics::score_ranking(ranked, relevant[kept[i]], settings.k)});
  }
  SourceResult result;
  metrics::BootstrapOptions bootstrap;
  bootstrap.samples = settings.bootstrap_samples;
  bootstrap.seed = settings.seed;
  result.report = metrics::summarize_rankings(ctx, scores, settings.k, bootstrap);
  result.coverage = metrics::catalog_coverage(ctx, recommended, catalog.size);
  return result;
}

JsonObject estimate_json(const metrics::Estimate& estimate) {
  return JsonObject().add("mean", estimate.mean).add("low", estimate.low).add("high", estimate.high);
}

JsonObject source_json(const SourceResult& result) {
  return JsonObject()
      .add("users", result.report.users)
      .add("precision", estimate_json(result.report.precision))
      .add("recall", estimate_json(result.report.recall))
      .add("ndcg", estimate_json(result.report.ndcg))
      .add("map", estimate_json(result.report.map))
      .add("coverage", result.coverage);
}

JsonObject error_json(const metrics::PredictionError& error) {
  return JsonObject().add("pairs", error.count).add("rmse", error.rmse).add("mae", error.mae);
}

// The evaluation inputs, matched to embedding rows.
struct Inputs {
  EmbeddingSide users, items;
  std::vector<ops::Interaction> train, test;  // embedding rows; this rank's share of the files' rows
  JsonObject data;                            // what was read, matched and dropped
};

Inputs read_inputs(Context& ctx, const po::variables_map& values, const io::ShardedReader& embeddings) {
  Inputs inputs;
  inputs.users = read_embedding_side(ctx, embeddings, "users");
  inputs.items = read_embedding_side(ctx, embeddings, "items");
  if (inputs.users.vectors.cols() != inputs.items.vectors.cols())
    throw Error(fmt::format("{}: users have {} factors, items {}", embeddings.path().string(),
                            inputs.users.vectors.cols(), inputs.items.vectors.cols()));
  inputs.data.add("embedding_users", inputs.users.total_rows).add("embedding_items", inputs.items.total_rows);
  for (const std::string side : {"train", "test"}) {
    auto options = interaction_load_options(values);
    options.path = values[side].as<std::string>();
    auto loaded = ops::data::load_interactions(ctx, options);
    const auto user_rows = embedding_rows_of(ctx, inputs.users, loaded.users);
    const auto item_rows = embedding_rows_of(ctx, inputs.items, loaded.items);
    auto matched = to_embedding_rows(loaded.local, user_rows, item_rows);
    const auto missing_users =
        static_cast<std::uint64_t>(std::count(user_rows.begin(), user_rows.end(), kNoRow));
    const auto missing_items =
        static_cast<std::uint64_t>(std::count(item_rows.begin(), item_rows.end(), kNoRow));
    const auto unknown_user = comm::allreduce_sum(ctx.comm(), matched.unknown_user);
    const auto unknown_item = comm::allreduce_sum(ctx.comm(), matched.unknown_item);
    inputs.data.add(side + "_interactions", loaded.total)
        .add(side + "_users", static_cast<std::uint64_t>(loaded.users.size()))
        .add(side + "_items", static_cast<std::uint64_t>(loaded.items.size()))
        .add(side + "_users_without_embedding", missing_users)
        .add(side + "_items_without_embedding", missing_items)
        .add(side + "_interactions_of_users_without_embedding", unknown_user)
        .add(side + "_interactions_of_items_without_embedding", unknown_item);
    if (missing_users + missing_items > 0)
      ctx.log().info(
          "evaluate: {}: {} users and {} items have no embedding; {} + {} of {} interactions skipped",
          options.path, missing_users, missing_items, unknown_user, unknown_item, loaded.total);
    (side == "train" ? inputs.train : inputs.test) = std::move(matched.rows);
  }
  return inputs;
}

// This rank's test users with at least one relevant test item, their training and relevant items.
Queries find_queries(Context& ctx, const Inputs& inputs, const EvaluateSettings& settings) {
  std::vector<ops::Interaction> relevant;
  for (const auto& interaction : inputs.test)
    if (!settings.relevance_threshold || interaction.value >= *settings.relevance_threshold)
      relevant.push_back(interaction);
  std::vector<std::uint64_t> all_local_users;
  for (std::uint64_t row = 0; row < inputs.users.local_rows(); ++row)
    all_local_users.push_back(inputs.users.first_row + row);
  const auto relevant_of_all =
      ops::knn::seen_items(ctx, relevant, inputs.users.first_row, inputs.users.local_rows(), all_local_users);
  Queries queries;
  for (std::uint64_t row = 0; row < inputs.users.local_rows(); ++row) {
    if (relevant_of_all[row].empty()) continue;
    queries.local_rows.push_back(row);
    queries.global_rows.push_back(inputs.users.first_row + row);
    queries.relevant.entries.insert(queries.relevant.entries.end(), relevant_of_all[row].begin(),
                                    relevant_of_all[row].end());
    queries.relevant.close_list();
  }
  queries.seen = ops::knn::seen_items(ctx, inputs.train, inputs.users.first_row, inputs.users.local_rows(),
                                      queries.global_rows);
  return queries;
}

// RMSE/MAE of explicit predictions on every test pair: ALS, the global mean, mean + damped biases.
JsonObject rating_prediction(Context& ctx, const Inputs& inputs, const io::ShardedReader& embeddings,
                             const EvaluateSettings& settings, std::vector<std::string>& table) {
  // Send each test pair to the rank holding its user's vector; every rank holds all item vectors (the
  // catalog is small next to the users).
  ops::knn::RowOwnership owners(ctx.comm(), inputs.users.first_row, inputs.users.local_rows());
  std::vector<std::vector<ops::Interaction>> outgoing(ctx.size());
  for (const auto& pair : inputs.test) outgoing[owners.locate(pair.user).first].push_back(pair);
  std::vector<ops::Interaction> send;
  std::vector<std::size_t> counts;
  for (const auto& part : outgoing) {
    send.insert(send.end(), part.begin(), part.end());
    counts.push_back(part.size());
  }
  const auto pairs = comm::alltoallv(ctx.comm(), std::span<const ops::Interaction>(send),
                                     std::span<const std::size_t>(counts));
  const auto factors = static_cast<Eigen::Index>(embeddings.cols("items/vectors"));
  const auto item_values = embeddings.read_all<float>("items/vectors");
  const Eigen::Map<const RowMatrix> item_vectors(item_values.data(),
                                                 static_cast<Eigen::Index>(inputs.items.total_rows), factors);
  std::vector<float> item_biases;
  double global_mean = 0;
  const bool biases = inputs.items.has_biases && inputs.users.has_biases;
  if (biases) {
    item_biases = embeddings.read_all<float>("items/biases");
    global_mean = embeddings.master().attribute<double>("/", "global_mean");
  }
  const metrics::BiasBaseline baseline = metrics::fit_bias_baseline(
      ctx, inputs.train, inputs.users.total_rows, inputs.items.total_rows, settings.bias_damping);

  std::vector<float> actual, als, mean_only, mean_plus_biases;
  for (const auto& pair : pairs) {
    const auto local_user = static_cast<Eigen::Index>(pair.user - inputs.users.first_row);
    double prediction = inputs.users.vectors.row(local_user).dot(item_vectors.row(pair.item));
    if (biases) prediction += global_mean + inputs.users.biases[local_user] + item_biases[pair.item];
    actual.push_back(pair.value);
    als.push_back(static_cast<float>(prediction));
    mean_only.push_back(static_cast<float>(baseline.global_mean));
    mean_plus_biases.push_back(static_cast<float>(baseline.predict(pair.user, pair.item)));
  }
  JsonObject result;
  for (const auto& [name, predicted] : {std::pair<std::string, const std::vector<float>*>{"als", &als},
                                        {"global_mean", &mean_only},
                                        {"mean_plus_biases", &mean_plus_biases}}) {
    const auto error = metrics::prediction_error(ctx, *predicted, actual);
    result.add(name, error_json(error));
    table.push_back(fmt::format("{:<18} {:>9} {:>8.4f} {:>8.4f}", name, error.count, error.rmse, error.mae));
  }
  result.add("bias_damping", settings.bias_damping).add("als_uses_biases", biases);
  return result;
}

// Protocol A's catalog: which embedding rows are probe items (replicated). Probe items without an embedding
// (no training interaction left, m = 0) cannot be ranked by any source here and are reported.
std::vector<bool> probe_item_rows(Context& ctx, const EmbeddingSide& items,
                                  const std::filesystem::path& path) {
  const auto ids =
      read_id_list(path, {"item", "item_id", "itemId", "movieId", "movie_id", "product_id", "sku"});
  std::vector<std::uint32_t> mine;
  for (auto row : rows_with_ids(items.ids, std::unordered_set<std::string>(ids.begin(), ids.end())))
    mine.push_back(static_cast<std::uint32_t>(items.first_row + row));
  std::vector<bool> probe(items.total_rows, false);
  const auto all = comm::allgatherv(ctx.comm(), std::span<const std::uint32_t>(mine));
  for (auto row : all) probe[row] = true;
  ctx.log().info("evaluate: {} of the {} probe items in {} have embeddings", all.size(), ids.size(),
                 path.string());
  return probe;
}

// --feedback, else as the embeddings were trained (their "feedback" attribute), else implicit.
std::string feedback_of(const po::variables_map& values, const io::ShardedReader& embeddings) {
  if (values.count("feedback")) return values["feedback"].as<std::string>();
  if (embeddings.master().has_attribute("/", "feedback"))
    return embeddings.master().string_attribute("/", "feedback");
  return "implicit";
}

int run_evaluate(Context& ctx, const po::variables_map& values) {
  if (values.count("interactions")) throw Error("evaluate reads --train and --test, not --interactions");
  EvaluateSettings settings;
  settings.k = values["k"].as<std::size_t>();
  if (settings.k == 0) throw Error("--k must be at least 1");
  if (values.count("relevance-threshold"))
    settings.relevance_threshold = values["relevance-threshold"].as<double>();
  settings.buckets = values["buckets"].as<bool>();
  settings.protocol = values["protocol"].as<std::string>();
  if (settings.protocol != "A" && settings.protocol != "B")
    throw Error(fmt::format("--protocol must be A (few-shot probe items) or B (natural tail), not '{}'",
                            settings.protocol));
  settings.probe_items =
      values.count("probe-items")
          ? std::filesystem::path(values["probe-items"].as<std::string>())
          : std::filesystem::path(values["test"].as<std::string>()).parent_path() / "probe_items.csv";
  settings.head_min = values["head-min"].as<std::uint64_t>();
  settings.seed = values["seed"].as<std::uint64_t>();
  settings.bootstrap_samples = values["bootstrap"].as<std::size_t>();
  settings.bias_damping = values["bias-damping"].as<double>();
  if (settings.bias_damping < 0) throw Error("--bias-damping must be >= 0");
  const std::filesystem::path out = values["out"].as<std::string>();
  prepare_output_directory(ctx, out);

  io::ShardedReader embeddings(values["embeddings"].as<std::string>());
  settings.feedback = feedback_of(values, embeddings);
  if (settings.feedback != "implicit" && settings.feedback != "explicit")
    throw Error(fmt::format("--feedback must be implicit or explicit, not '{}'", settings.feedback));

  Inputs inputs = read_inputs(ctx, values, embeddings);
  const Queries queries = find_queries(ctx, inputs, settings);
  inputs.data
      .add("relevant_test_pairs",
           comm::allreduce_sum(ctx.comm(), static_cast<std::uint64_t>(queries.relevant.entries.size())))
      .add("test_users_with_relevant_items",
           comm::allreduce_sum(ctx.comm(), static_cast<std::uint64_t>(queries.global_rows.size())));
  const auto item_counts = metrics::item_interaction_counts(ctx, inputs.train, inputs.items.total_rows);
  const metrics::PopularityBuckets buckets(item_counts, settings.head_min);

  // The sources' query and item matrices (all local items; each catalog selects its rows).
  RowMatrix als_queries = select_rows(inputs.users.vectors, queries.local_rows);
  RowMatrix als_items = inputs.items.vectors;
  if (inputs.items.has_biases) append_item_bias_column(als_queries, als_items, inputs.items.biases);
  const RowMatrix ones = RowMatrix::Ones(static_cast<Eigen::Index>(queries.local_rows.size()), 1);
  RowMatrix popularity_items(static_cast<Eigen::Index>(inputs.items.local_rows()), 1);
  for (std::uint64_t row = 0; row < inputs.items.local_rows(); ++row)
    popularity_items(static_cast<Eigen::Index>(row), 0) =
        static_cast<float>(item_counts[inputs.items.first_row + row]);
  const RowMatrix random_items = RowMatrix::Zero(static_cast<Eigen::Index>(inputs.items.local_rows()), 1);
  struct Source {
    std::string name;
    const RowMatrix* queries;
    const RowMatrix* items;
  };
  const std::vector<Source> sources = {{"als", &als_queries, &als_items},
                                       {"popularity", &ones, &popularity_items},
                                       {"random", &ones, &random_items}};

  std::vector<Catalog> catalogs;
  if (settings.protocol == "A") {
    const std::vector<bool> probe = probe_item_rows(ctx, inputs.items, settings.probe_items);
    catalogs.push_back(make_catalog("probe", inputs.items, [&](std::uint64_t row) { return probe[row]; }));
  } else {
    catalogs.push_back(make_catalog("all", inputs.items, [](std::uint64_t) { return true; }));
  }
  if (settings.buckets && settings.protocol == "A")
    ctx.log().info("evaluate: --buckets applies to protocol B only; protocol A ranks the probe items");
  if (settings.buckets && settings.protocol == "B")
    for (auto bucket : {metrics::Bucket::kHead, metrics::Bucket::kTail, metrics::Bucket::kCold}) {
      Catalog catalog =
          make_catalog(std::string(metrics::bucket_name(bucket)), inputs.items,
                       [&](std::uint64_t row) { return buckets.of(static_cast<ItemIndex>(row)) == bucket; });
      if (catalog.size > 0) catalogs.push_back(std::move(catalog));
    }

  const auto relevance_text = settings.relevance_threshold
                                  ? fmt::format("test value >= {}", *settings.relevance_threshold)
                                  : std::string("every test interaction");
  std::vector<std::string> table;
  table.push_back(fmt::format("{:<6} {:>7} {:<11} {:>6} {:>8} {:>8} {:>8} {:>19} {:>8} {:>8}", "bucket",
                              "items", "source", "users", fmt::format("P@{}", settings.k),
                              fmt::format("R@{}", settings.k), fmt::format("NDCG@{}", settings.k),
                              "NDCG 95% interval", fmt::format("MAP@{}", settings.k), "coverage"));
  JsonObject ranking;
  for (const auto& catalog : catalogs) {
    const ExclusionLists seen = in_catalog(queries.seen, catalog);
    const ExclusionLists relevant = in_catalog(queries.relevant, catalog);
    JsonObject catalog_json;
    catalog_json.add("items", catalog.size);
    for (const auto& source : sources) {
      const RowMatrix items = select_rows(*source.items, catalog.local_rows);
      const SourceResult result =
          rank_catalog(ctx, settings, catalog, queries, seen, relevant, *source.queries, items);
      catalog_json.add(source.name, source_json(result));
      const auto& r = result.report;
      table.push_back(fmt::format(
          "{:<6} {:>7} {:<11} {:>6} {:>8.4f} {:>8.4f} {:>8.4f} {:>19} {:>8.4f} {:>8.4f}", catalog.name,
          catalog.size, source.name, r.users, r.precision.mean, r.recall.mean, r.ndcg.mean,
          fmt::format("[{:.4f}, {:.4f}]", r.ndcg.low, r.ndcg.high), r.map.mean, result.coverage));
    }
    ranking.add(catalog.name, catalog_json);
  }

  JsonObject report;
  report.add("evaluation", "tailflow evaluate")
      .add("version", TAILFLOW_VERSION)
      .add("train", values["train"].as<std::string>())
      .add("test", values["test"].as<std::string>())
      .add("embeddings", embeddings.path().string())
      .add("protocol", settings.protocol)
      .add("k", static_cast<std::uint64_t>(settings.k))
      .add("relevance", relevance_text)
      .add("feedback", settings.feedback)
      .add("seed", settings.seed)
      .add("bootstrap_samples", static_cast<std::uint64_t>(settings.bootstrap_samples))
      .add("ranks", ctx.size())
      .add("head_min", buckets.head_min())
      .add("data", inputs.data)
      .add("ranking", ranking);
  std::vector<std::string> error_table;
  if (settings.feedback == "explicit")
    report.add("rating_prediction", rating_prediction(ctx, inputs, embeddings, settings, error_table));

  if (ctx.is_root()) {
    fmt::print(
        "evaluate: top {} of items not seen in training; relevant = {}; seed {}; head = items with >= {} "
        "training interactions\n",
        settings.k, relevance_text, settings.seed, buckets.head_min());
    for (const auto& line : table) fmt::print("{}\n", line);
    if (!error_table.empty()) {
      fmt::print("\n{:<18} {:>9} {:>8} {:>8}\n", "rating prediction", "pairs", "RMSE", "MAE");
      for (const auto& line : error_table) fmt::print("{}\n", line);
    }
    write_json_file(out.string(), report);
    ctx.log().info("evaluate: wrote {}", out.string());
  }
  return 0;
}

const SubcommandRegistration registration{Subcommand{
    "evaluate", "ranking metrics (P/R/NDCG/MAP@K) and RMSE of embeddings against popularity and random",
    [](po::options_description& options) {
      options.add_options()("train", po::value<std::string>()->required(),
                            "training interactions (excluded from each user's ranking; popularity counts)")(
          "test", po::value<std::string>()->required(), "held-out interactions (the relevant items)")(
          "embeddings", po::value<std::string>()->required(), "embeddings master file of `tailflow als`")(
          "k", po::value<std::size_t>()->default_value(10), "list length K of the @K metrics")(
          "relevance-threshold", po::value<double>(),
          "relevant = test interactions with value >= T (default: every test interaction)")(
          "feedback", po::value<std::string>(),
          "implicit | explicit (explicit adds RMSE); default: as the embeddings were trained")(
          "protocol", po::value<std::string>()->default_value("B"),
          "B: rank all items (natural tail); A: rank only the probe items of a few-shot split")(
          "probe-items", po::value<std::string>(),
          "protocol A: the probe items (default: probe_items.csv next to --test, as `split --method "
          "few-shot` "
          "writes it)")("buckets", po::bool_switch(),
                        "also per popularity bucket (head/tail/cold), each ranking only its items")(
          "head-min", po::value<std::uint64_t>()->default_value(0),
          "head = items with at least this many training interactions (0: those holding 80%)")(
          "seed", po::value<std::uint64_t>()->default_value(0),
          "seed of tie-breaking, random baseline, bootstrap")("bootstrap",
                                                              po::value<std::size_t>()->default_value(1000),
                                                              "bootstrap samples of the 95% intervals")(
          "bias-damping", po::value<double>()->default_value(10.0),
          "damping of the mean-plus-biases baseline (explicit feedback)")(
          "out", po::value<std::string>()->required(), "JSON report");
      add_interaction_options(options, /*required=*/false);
    },
    run_evaluate}};

}  // namespace
}  // namespace tailflow::jobs
