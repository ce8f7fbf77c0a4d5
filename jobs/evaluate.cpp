// `tailflow evaluate`: how well item vectors rank held-out interactions, next to the baselines, on the
// definitions of ../shared/design/EVALUATION.md (protocol B, with --buckets per popularity bucket, or
// protocol A on the probe items of a few-shot split). docs/evaluate.md describes the options.
//
//   1. Train and test files are read with the interaction options; their external ids are matched to the
//      users of --embeddings and to the item universe (jobs/evaluation_sources.hpp: the items of --embeddings
//      and of every --source NAME=FILE, matched by external id). Test users without an embedding are
//      skipped, test items outside the universe cannot be ranked: both are counted and reported.
//   2. For every test user with at least one relevant test item (value >= --relevance-threshold; default:
//      every test interaction), each source ranks all items of the catalog the user has not interacted with
//      in training (exact, distributed top-K, operators/knn). Sources: `als` (--embeddings: user·item, +
//      item bias when the file has biases), each --source (the same with its own item vectors, and its own
//      user vectors when it has users/*), `content-knn` with --features (cosine between the item's content
//      and the user's training items, operators/knn/content_knn.hpp), `popularity` (distinct training users)
//      and `random` (all scores equal). Items a source has no vector for are ranked after all others. Equal
//      scores are ordered by a seeded hash, so ties never favour low item ids.
//   3. Precision/Recall/NDCG/MAP@K and Recall@L (--long-k) per user, averaged with 95% bootstrap intervals
//      over users; catalog coverage of the top-K lists. Catalogs: `all` items (protocol B; with --buckets
//      also `head`, `tail`, `cold` by training counts, each ranking only its items) or `probe` (protocol A).
//   4. With explicit feedback also RMSE/MAE on the test ratings: ALS (mean + biases + user·item when trained
//      with biases), the global mean, and the damped mean-plus-biases baseline fitted on train.
// The report is a table on stdout, a JSON file (--out) and, with --markdown, a Markdown table.
//
// JSON report (keys in this order; later versions only add keys):
//   evaluation, version, train, test, embeddings, protocol, k, long_k, relevance, feedback, seed,
//   bootstrap_samples, ranks, head_min, features (with --features),
//   sources: {NAME: {kind: "embeddings"|"content-knn"|"baseline", file, users_from,
//                    users_without_vector, items_without_vector}}   (als, each --source, content-knn, ...)
//   data: {embedding_users, embedding_items, universe_items, train_* / test_* counts, relevant_test_pairs,
//          test_users_with_relevant_items}
//   ranking: {CATALOG: {items, SOURCE: {users, precision, recall, ndcg, map: {mean, low, high},
//                                       coverage, recall_long, irrelevant_share: {mean, low, high},
//                                       items_missing}}}
//     precision/recall/ndcg/map are @k, recall_long is Recall@long_k, irrelevant_share = 1 − precision@k
//     (the share of top-K results that are not relevant, with its interval), items_missing = the catalog's
//     items the source has no vector for.
//   rating_prediction (explicit feedback): {als, global_mean, mean_plus_biases: {pairs, rmse, mae},
//                                           bias_damping, als_uses_biases}
#include <fmt/format.h>

#include <fstream>
#include <optional>
#include <unordered_set>

#include "engine/comm/collectives.hpp"
#include "engine/error.hpp"
#include "engine/io/atomic_output.hpp"
#include "engine/io/sharded_reader.hpp"
#include "engine/json_writer.hpp"
#include "jobs/embedding_side.hpp"
#include "jobs/evaluation_sources.hpp"
#include "jobs/evaluation_table.hpp"
#include "jobs/id_list_file.hpp"
#include "jobs/interaction_options.hpp"
#include "jobs/ranked_output.hpp"
#include "jobs/subcommand.hpp"
#include "operators/features/feature_cache.hpp"
#include "operators/knn/content_knn.hpp"
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
using ops::knn::RankedLists;
using ops::knn::RowMatrix;
namespace metrics = ops::metrics;

struct EvaluateSettings {
  std::size_t k = 10;
  std::size_t long_k = 20;                    // the second recall cutoff
  std::optional<double> relevance_threshold;  // none: every test interaction is relevant
  std::string feedback;                       // implicit | explicit
  std::string protocol = "B";  // A: rank only the probe items (few-shot split); B: all items (and buckets)
  std::filesystem::path probe_items;
  bool buckets = false;
  std::uint64_t head_min = 0;  // 0: default (80% of training interactions)
  std::uint64_t seed = 0;
  std::size_t bootstrap_samples = 1000;
  double bias_damping = 10;
  std::vector<SourceOption> sources;
  std::optional<std::filesystem::path> features;
  std::optional<std::filesystem::path> markdown;
};

// The items one ranking may return: all items, or one popularity bucket. Catalog indices number the
// catalog's items in universe-row order, so each rank's share of the catalog stays contiguous.
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
  ExclusionLists seen;      // training items, global item rows, sorted
  ExclusionLists relevant;  // relevant test items, global item rows, sorted
};

// The queries of one catalog: those with at least one relevant item in it.
struct CatalogQueries {
  std::vector<std::uint64_t> positions;  // into Queries
  std::vector<std::uint64_t> ids;        // global user rows (they seed tie-breaking)
  ExclusionLists seen;                   // training items in the catalog, catalog indices
  ExclusionLists histories;              // all training items, global item rows (content-knn profiles)
  ExclusionLists relevant;               // relevant items, catalog indices
};

CatalogQueries catalog_queries(const Queries& queries, const Catalog& catalog) {
  const ExclusionLists seen = in_catalog(queries.seen, catalog);
  const ExclusionLists relevant = in_catalog(queries.relevant, catalog);
  CatalogQueries result;
  for (std::size_t q = 0; q < relevant.size(); ++q) {
    if (relevant[q].empty()) continue;
    result.positions.push_back(q);
    result.ids.push_back(queries.global_rows[q]);
    for (auto [lists, from] : {std::pair{&result.seen, &seen}, std::pair{&result.relevant, &relevant},
                               std::pair{&result.histories, &queries.seen}}) {
      lists->entries.insert(lists->entries.end(), (*from)[q].begin(), (*from)[q].end());
      lists->close_list();
    }
  }
  return result;
}

// One way of scoring items for users: dense vectors (a file or a baseline), or content-kNN.
struct Source {
  std::string name;
  std::string kind;  // embeddings | content-knn | baseline
  std::string file;
  RowMatrix queries;                  // dense: one row per query of Queries
  RowMatrix items;                    // dense: one row per local universe row
  std::vector<std::uint8_t> missing;  // per local universe row (empty: none missing)
  const ops::knn::ContentIndex* content = nullptr;
  std::uint64_t items_without_vector = 0;  // universe items, over all ranks
  JsonObject info;
};

struct SourceResult {
  metrics::RankingReport report;
  double coverage = 0;
  std::uint64_t items_missing = 0;
};

RankedLists rank(Context& ctx, const EvaluateSettings& settings, const Source& source, const Catalog& catalog,
                 const EmbeddingSide& items, const CatalogQueries& queries) {
  const std::size_t list_length = std::max(settings.k, settings.long_k);
  if (source.content) {
    std::vector<ItemIndex> catalog_items;
    for (auto row : catalog.local_rows)
      catalog_items.push_back(static_cast<ItemIndex>(items.first_row + row));
    ops::knn::ContentScoringOptions options;
    options.k = list_length;
    options.seed = settings.seed;
    return ops::knn::top_k_by_content(ctx, *source.content, {queries.histories, queries.ids},
                                      {catalog_items, catalog.first_index}, &queries.seen, options);
  }
  ops::knn::ScoringOptions options;
  options.k = list_length;
  options.seed = settings.seed;
  const RowMatrix query_vectors = select_rows(source.queries, queries.positions);
  const RowMatrix item_vectors = select_rows(source.items, catalog.local_rows);
  return ops::knn::top_k_by_dot_product(ctx, ops::knn::QuerySet{query_vectors, queries.ids},
                                        ops::knn::FactorSlice{item_vectors, catalog.first_index},
                                        &queries.seen, options);
}

// Ranks `catalog` for its queries by one source and scores the lists.
SourceResult rank_catalog(Context& ctx, const EvaluateSettings& settings, const Source& source,
                          const Catalog& catalog, const EmbeddingSide& items, const CatalogQueries& queries) {
  const auto lists = rank(ctx, settings, source, catalog, items, queries);
  std::vector<metrics::UserScores> scores;
  std::vector<ItemIndex> recommended, ranked;
  for (std::size_t i = 0; i < queries.ids.size(); ++i) {
    ranked.clear();
    for (const auto& scored : lists[i]) ranked.push_back(scored.item);
    // Coverage is that of the top-K lists, as the metrics' K.
    recommended.insert(recommended.end(), ranked.begin(),
                       ranked.begin() + static_cast<std::ptrdiff_t>(std::min(ranked.size(), settings.k)));
    scores.push_back(
        {queries.ids[i], metrics::score_ranking(ranked, queries.relevant[i], settings.k, settings.long_k)});
  }
  SourceResult result;
  metrics::BootstrapOptions bootstrap;
  bootstrap.samples = settings.bootstrap_samples;
  bootstrap.seed = settings.seed;
  result.report = metrics::summarize_rankings(ctx, scores, settings.k, bootstrap, settings.long_k);
  result.coverage = metrics::catalog_coverage(ctx, recommended, catalog.size);
  std::uint64_t missing = 0;
  if (!source.missing.empty())
    for (auto row : catalog.local_rows) missing += source.missing[row];
  result.items_missing = comm::allreduce_sum(ctx.comm(), missing);
  return result;
}

JsonObject estimate_json(const metrics::Estimate& estimate) {
  return JsonObject().add("mean", estimate.mean).add("low", estimate.low).add("high", estimate.high);
}

JsonObject source_json(const SourceResult& result) {
  const auto& precision = result.report.precision;
  const metrics::Estimate irrelevant{1 - precision.mean, 1 - precision.high, 1 - precision.low};
  return JsonObject()
      .add("users", result.report.users)
      .add("precision", estimate_json(precision))
      .add("recall", estimate_json(result.report.recall))
      .add("ndcg", estimate_json(result.report.ndcg))
      .add("map", estimate_json(result.report.map))
      .add("coverage", result.coverage)
      .add("recall_long", estimate_json(result.report.long_recall))
      .add("irrelevant_share", estimate_json(irrelevant))
      .add("items_missing", result.items_missing);
}

JsonObject error_json(const metrics::PredictionError& error) {
  return JsonObject().add("pairs", error.count).add("rmse", error.rmse).add("mae", error.mae);
}

// The evaluation inputs, matched to users of --embeddings and to universe rows.
struct Inputs {
  EmbeddingSide users, items;                 // items: this rank's share of the universe (ids only)
  std::vector<ops::Interaction> train, test;  // user rows and universe rows; this rank's share of the files
  JsonObject data;                            // what was read, matched and dropped
};

Inputs read_inputs(Context& ctx, const po::variables_map& values, const io::ShardedReader& embeddings,
                   const ItemUniverse& universe) {
  Inputs inputs;
  inputs.users = read_embedding_side(ctx, embeddings, "users");
  inputs.items = universe_share(ctx, universe);
  inputs.data.add("embedding_users", inputs.users.total_rows)
      .add("embedding_items", universe.main_rows())
      .add("universe_items", universe.size());
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

// RMSE/MAE of explicit predictions on every test pair whose item --embeddings has: ALS, the global mean,
// mean + damped biases. (Universe rows below the file's item count are its rows.)
JsonObject rating_prediction(Context& ctx, const Inputs& inputs, const io::ShardedReader& embeddings,
                             const EvaluateSettings& settings, std::vector<std::string>& table) {
  // Send each test pair to the rank holding its user's vector; every rank holds all item vectors (the
  // catalog is small next to the users).
  const std::uint64_t als_items = embeddings.rows("items/vectors");
  ops::knn::RowOwnership owners(ctx.comm(), inputs.users.first_row, inputs.users.local_rows());
  std::vector<std::vector<ops::Interaction>> outgoing(ctx.size());
  for (const auto& pair : inputs.test)
    if (pair.item < als_items) outgoing[owners.locate(pair.user).first].push_back(pair);
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
  const Eigen::Map<const RowMatrix> item_vectors(item_values.data(), static_cast<Eigen::Index>(als_items),
                                                 factors);
  std::vector<float> item_biases;
  double global_mean = 0;
  const bool biases = embeddings.has_dataset("items/biases") && inputs.users.has_biases;
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

// Protocol A's catalog: which universe rows are probe items (replicated). Probe items outside the universe
// (no source has a vector for them) cannot be ranked here and are reported.
std::vector<bool> probe_item_rows(Context& ctx, const EmbeddingSide& items,
                                  const std::filesystem::path& path) {
  const auto ids = read_id_list(path, kItemIdColumnNames);
  std::vector<std::uint32_t> mine;
  for (auto row : rows_with_ids(items.ids, std::unordered_set<std::string>(ids.begin(), ids.end())))
    mine.push_back(static_cast<std::uint32_t>(items.first_row + row));
  std::vector<bool> probe(items.total_rows, false);
  const auto all = comm::allgatherv(ctx.comm(), std::span<const std::uint32_t>(mine));
  for (auto row : all) probe[row] = true;
  ctx.log().info("evaluate: {} of the {} probe items in {} are among the evaluated items", all.size(),
                 ids.size(), path.string());
  return probe;
}

// --feedback, else as the embeddings were trained (their "feedback" attribute), else implicit.
std::string feedback_of(const po::variables_map& values, const io::ShardedReader& embeddings) {
  if (values.count("feedback")) return values["feedback"].as<std::string>();
  if (embeddings.master().has_attribute("/", "feedback"))
    return embeddings.master().string_attribute("/", "feedback");
  return "implicit";
}

EvaluateSettings read_settings(const po::variables_map& values) {
  if (values.count("interactions")) throw Error("evaluate reads --train and --test, not --interactions");
  EvaluateSettings settings;
  settings.k = values["k"].as<std::size_t>();
  if (settings.k == 0) throw Error("--k must be at least 1");
  settings.long_k = values["long-k"].as<std::size_t>();
  if (settings.long_k == 0) settings.long_k = settings.k;
  if (settings.long_k < settings.k)
    throw Error(fmt::format("--long-k ({}) must be at least --k ({})", settings.long_k, settings.k));
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
  std::unordered_set<std::string> names = {"als", "content-knn", "popularity", "random"};
  if (values.count("source"))
    for (const auto& text : values["source"].as<std::vector<std::string>>()) {
      settings.sources.push_back(parse_source_option(text));
      if (!names.insert(settings.sources.back().name).second)
        throw Error(
            fmt::format("--source {}: the name '{}' is taken (als, content-knn, popularity and random "
                        "are the built-in sources; give each --source its own name)",
                        text, settings.sources.back().name));
    }
  if (values.count("features")) settings.features = values["features"].as<std::string>();
  if (values.count("markdown")) settings.markdown = values["markdown"].as<std::string>();
  return settings;
}

// content-knn: every item's content vector (the universe items the features have), on every rank.
ops::knn::ContentIndex read_content_index(Context& ctx, const std::filesystem::path& features,
                                          const ItemUniverse& universe, const ExclusionLists& histories,
                                          JsonObject& info) {
  ops::features::ItemFeatureBlock block;
  std::string error;
  try {
    block = ops::features::read_features(features / "features.h5", ctx.rank(), ctx.size());
  } catch (const std::exception& e) {
    error = fmt::format("--features {}: {}", features.string(), e.what());
  }
  ctx.check_collectively(error);
  const ops::knn::ContentVectors vectors = ops::knn::content_vectors(block);
  std::unordered_map<std::string, std::uint64_t> universe_row;
  for (std::uint64_t row = 0; row < universe.size(); ++row) universe_row.emplace(universe.ids()[row], row);
  ops::knn::ContentVectors kept;
  std::vector<std::uint64_t> rows;
  std::uint64_t outside = 0;
  for (std::size_t i = 0; i < vectors.rows(); ++i) {
    const auto found = universe_row.find(block.ids[i]);
    if (found == universe_row.end()) {
      ++outside;
      continue;
    }
    rows.push_back(found->second);
    const auto terms = vectors.terms_of(i);
    const auto weights = vectors.weights_of(i);
    kept.terms.insert(kept.terms.end(), terms.begin(), terms.end());
    kept.weights.insert(kept.weights.end(), weights.begin(), weights.end());
    kept.offsets.push_back(kept.terms.size());
  }
  auto index = ops::knn::ContentIndex::gather(ctx, kept, rows, universe.size());
  const std::uint64_t with_content = index.items_with_content();
  // Queries whose training items have no content: their profile is empty (a random ranking).
  std::uint64_t empty_profiles = 0;
  for (const double norm : index.profile_norms(histories)) empty_profiles += norm > 0 ? 0 : 1;
  info.add("kind", "content-knn")
      .add("file", (features / "features.h5").string())
      .add("users_from", "training interactions")
      .add("users_without_vector", comm::allreduce_sum(ctx.comm(), empty_profiles))
      .add("items_without_vector", universe.size() - with_content)
      .add("feature_items_outside_universe", comm::allreduce_sum(ctx.comm(), outside))
      .add("features_used", "TF-IDF text bag, categorical one-hots, multi-valued bags; unit groups, cosine");
  return index;
}

// The Markdown report: what was measured, the table, and which sources lack vectors for some items.
void write_markdown(const std::filesystem::path& path, const std::string& heading,
                    const EvaluateSettings& settings, const std::vector<Source>& sources,
                    const std::vector<ResultRow>& rows) {
  std::string text = fmt::format(
      "Evaluation (`tailflow evaluate`): {}. Figures are means over users with a 95% bootstrap interval ({} "
      "samples); coverage is the share of the bucket's items in any top-{} list.\n\n",
      heading, settings.bootstrap_samples, settings.k);
  text += markdown_table(rows);
  std::string missing;
  for (const auto& source : sources)
    if (source.items_without_vector > 0)
      missing +=
          fmt::format("{}{} {}", missing.empty() ? "" : ", ", source.name, source.items_without_vector);
  if (!missing.empty())
    text += fmt::format("\nItems without a vector in a source are ranked last by it: {}.\n", missing);
  io::AtomicOutput output(path);
  {
    std::ofstream file(output.temporary_path());
    file << text;
    if (!file.flush()) throw Error(fmt::format("cannot write '{}'", path.string()));
  }
  output.commit();
}

int run_evaluate(Context& ctx, const po::variables_map& values) {
  const EvaluateSettings settings = read_settings(values);
  const std::filesystem::path out = values["out"].as<std::string>();
  prepare_output_directory(ctx, out);
  if (settings.markdown) prepare_output_directory(ctx, *settings.markdown);

  // Every rank opens every file and reads all item ids (the catalog is small next to the users).
  std::vector<std::unique_ptr<io::ShardedReader>> readers;
  std::optional<ItemUniverse> universe;
  std::string error;
  try {
    readers.push_back(std::make_unique<io::ShardedReader>(values["embeddings"].as<std::string>()));
    for (const auto& source : settings.sources)
      readers.push_back(std::make_unique<io::ShardedReader>(source.path));
    std::vector<const io::ShardedReader*> files;
    for (const auto& reader : readers) files.push_back(reader.get());
    universe.emplace(files);
  } catch (const std::exception& e) {
    error = e.what();
  }
  ctx.check_collectively(error);
  const io::ShardedReader& embeddings = *readers.front();
  EvaluateSettings resolved = settings;
  resolved.feedback = feedback_of(values, embeddings);
  if (resolved.feedback != "implicit" && resolved.feedback != "explicit")
    throw Error(fmt::format("--feedback must be implicit or explicit, not '{}'", resolved.feedback));

  Inputs inputs = read_inputs(ctx, values, embeddings, *universe);
  const Queries queries = find_queries(ctx, inputs, resolved);
  inputs.data
      .add("relevant_test_pairs",
           comm::allreduce_sum(ctx.comm(), static_cast<std::uint64_t>(queries.relevant.entries.size())))
      .add("test_users_with_relevant_items",
           comm::allreduce_sum(ctx.comm(), static_cast<std::uint64_t>(queries.global_rows.size())));
  const auto item_counts = metrics::item_interaction_counts(ctx, inputs.train, inputs.items.total_rows);
  const metrics::PopularityBuckets buckets(item_counts, resolved.head_min);
  // The popularity baseline ranks by distinct training users: with implicit data one user's repeated views
  // of an item would otherwise outweigh other users' choices.
  const auto item_users = metrics::item_user_counts(ctx, inputs.train, inputs.items.total_rows);

  // The sources: als (--embeddings), each --source, content-knn, popularity, random.
  std::vector<Source> sources;
  for (std::size_t file = 0; file < readers.size(); ++file) {
    SourceVectors vectors = read_source_vectors(ctx, *readers[file], file, *universe, inputs.items,
                                                inputs.users, queries.local_rows);
    Source source;
    source.name = file == 0 ? "als" : settings.sources[file - 1].name;
    source.kind = "embeddings";
    source.file = readers[file]->path().string();
    source.queries = std::move(vectors.queries);
    source.items = std::move(vectors.items);
    if (vectors.items_missing > 0) source.missing = std::move(vectors.missing);
    source.items_without_vector = vectors.items_missing;
    source.info.add("kind", source.kind)
        .add("file", source.file)
        .add("users_from", vectors.users_from)
        .add("users_without_vector", vectors.users_missing)
        .add("items_without_vector", vectors.items_missing)
        .add("item_biases", vectors.item_biases);
    if (vectors.items_missing + vectors.users_missing > 0)
      ctx.log().info("evaluate: {}: no vector for {} of the {} items (ranked last) and {} query users (zero)",
                     source.name, vectors.items_missing, universe->size(), vectors.users_missing);
    sources.push_back(std::move(source));
  }
  std::optional<ops::knn::ContentIndex> content;
  if (settings.features) {
    Source source;
    source.name = "content-knn";
    source.kind = "content-knn";
    content.emplace(read_content_index(ctx, *settings.features, *universe, queries.seen, source.info));
    source.content = &*content;
    source.items_without_vector = universe->size() - content->items_with_content();
    source.file = (*settings.features / "features.h5").string();
    for (std::uint64_t row = 0; row < inputs.items.local_rows(); ++row)
      source.missing.push_back(
          content->has_content(static_cast<ItemIndex>(inputs.items.first_row + row)) ? 0 : 1);
    sources.push_back(std::move(source));
  }
  for (const std::string name : {"popularity", "random"}) {
    Source source;
    source.name = name;
    source.kind = "baseline";
    source.queries = RowMatrix::Ones(static_cast<Eigen::Index>(queries.local_rows.size()), 1);
    source.items = RowMatrix::Zero(static_cast<Eigen::Index>(inputs.items.local_rows()), 1);
    if (name == "popularity")
      for (std::uint64_t row = 0; row < inputs.items.local_rows(); ++row)
        source.items(static_cast<Eigen::Index>(row), 0) =
            static_cast<float>(item_users[inputs.items.first_row + row]);
    source.info.add("kind", source.kind)
        .add("scores", name == "popularity" ? "distinct training users" : "all equal (seeded random order)");
    sources.push_back(std::move(source));
  }

  std::vector<Catalog> catalogs;
  if (resolved.protocol == "A") {
    const std::vector<bool> probe = probe_item_rows(ctx, inputs.items, resolved.probe_items);
    catalogs.push_back(make_catalog("probe", inputs.items, [&](std::uint64_t row) { return probe[row]; }));
  } else {
    catalogs.push_back(make_catalog("all", inputs.items, [](std::uint64_t) { return true; }));
  }
  if (resolved.buckets && resolved.protocol == "A")
    ctx.log().info("evaluate: --buckets applies to protocol B only; protocol A ranks the probe items");
  if (resolved.buckets && resolved.protocol == "B")
    for (auto bucket : {metrics::Bucket::kHead, metrics::Bucket::kTail, metrics::Bucket::kCold}) {
      Catalog catalog =
          make_catalog(std::string(metrics::bucket_name(bucket)), inputs.items,
                       [&](std::uint64_t row) { return buckets.of(static_cast<ItemIndex>(row)) == bucket; });
      if (catalog.size > 0) catalogs.push_back(std::move(catalog));
    }

  const auto relevance_text = resolved.relevance_threshold
                                  ? fmt::format("test value >= {}", *resolved.relevance_threshold)
                                  : std::string("every test interaction");
  std::vector<ResultRow> rows;
  JsonObject ranking;
  for (const auto& catalog : catalogs) {
    const CatalogQueries catalog_users = catalog_queries(queries, catalog);
    JsonObject catalog_json;
    catalog_json.add("items", catalog.size);
    for (const auto& source : sources) {
      const SourceResult result = rank_catalog(ctx, resolved, source, catalog, inputs.items, catalog_users);
      catalog_json.add(source.name, source_json(result));
      rows.push_back(
          {catalog.name, catalog.size, source.name, result.report, result.coverage, result.items_missing});
    }
    ranking.add(catalog.name, catalog_json);
  }

  JsonObject source_info;
  for (const auto& source : sources) source_info.add(source.name, source.info);
  JsonObject report;
  report.add("evaluation", "tailflow evaluate")
      .add("version", TAILFLOW_VERSION)
      .add("train", values["train"].as<std::string>())
      .add("test", values["test"].as<std::string>())
      .add("embeddings", embeddings.path().string())
      .add("protocol", resolved.protocol)
      .add("k", static_cast<std::uint64_t>(resolved.k))
      .add("long_k", static_cast<std::uint64_t>(resolved.long_k))
      .add("relevance", relevance_text)
      .add("feedback", resolved.feedback)
      .add("seed", resolved.seed)
      .add("bootstrap_samples", static_cast<std::uint64_t>(resolved.bootstrap_samples))
      .add("ranks", ctx.size())
      .add("head_min", buckets.head_min());
  if (settings.features) report.add("features", settings.features->string());
  report.add("sources", source_info).add("data", inputs.data).add("ranking", ranking);
  std::vector<std::string> error_table;
  if (resolved.feedback == "explicit")
    report.add("rating_prediction", rating_prediction(ctx, inputs, embeddings, resolved, error_table));

  if (ctx.is_root()) {
    const std::string heading = fmt::format(
        "top {} of items not seen in training; relevant = {}; protocol {}; seed {}; head = items with >= {} "
        "training interactions",
        resolved.k, relevance_text, resolved.protocol, resolved.seed, buckets.head_min());
    fmt::print("evaluate: {}\n", heading);
    for (const auto& line : text_table(rows)) fmt::print("{}\n", line);
    if (!error_table.empty()) {
      fmt::print("\n{:<18} {:>9} {:>8} {:>8}\n", "rating prediction", "pairs", "RMSE", "MAE");
      for (const auto& line : error_table) fmt::print("{}\n", line);
    }
    write_json_file(out.string(), report);
    ctx.log().info("evaluate: wrote {}", out.string());
    if (settings.markdown) {
      write_markdown(*settings.markdown, heading, resolved, sources, rows);
      ctx.log().info("evaluate: wrote {}", settings.markdown->string());
    }
  }
  return 0;
}

const SubcommandRegistration registration{Subcommand{
    "evaluate",
    "ranking metrics (P/R/NDCG/MAP@K) of item-vector sources against content-kNN, popularity, random",
    [](po::options_description& options) {
      // clang-format off
      options.add_options()
        ("train", po::value<std::string>()->required(),
         "training interactions (excluded from each user's ranking; popularity counts; content-kNN profiles)")
        ("test", po::value<std::string>()->required(), "held-out interactions (the relevant items)")
        ("embeddings", po::value<std::string>()->required(),
         "embeddings master file of `tailflow als` (source \"als\"; its users are the queries)")
        ("source", po::value<std::vector<std::string>>(),
         "NAME=FILE (repeatable): another item-vector source, e.g. content=content.h5, blend=blend.h5, "
         "als-full=full/embeddings.h5; matched by item id; users from FILE when it has users/*")
        ("features", po::value<std::string>(),
         "features directory of `tailflow features`: adds the content-knn baseline")
        ("k", po::value<std::size_t>()->default_value(10), "list length K of the @K metrics")
        ("long-k", po::value<std::size_t>()->default_value(20), "second recall cutoff L (Recall@L; >= K)")
        ("relevance-threshold", po::value<double>(),
         "relevant = test interactions with value >= T (default: every test interaction)")
        ("feedback", po::value<std::string>(),
         "implicit | explicit (explicit adds RMSE); default: as the embeddings were trained")
        ("protocol", po::value<std::string>()->default_value("B"),
         "B: rank all items (natural tail); A: rank only the probe items of a few-shot split")
        ("probe-items", po::value<std::string>(),
         "protocol A: the probe items (default: probe_items.csv next to --test, as `split --method few-shot` "
         "writes it)")
        ("buckets", po::bool_switch(), "also per popularity bucket (head/tail/cold), each ranking only its items")
        ("head-min", po::value<std::uint64_t>()->default_value(0),
         "head = items with at least this many training interactions (0: those holding 80%)")
        ("seed", po::value<std::uint64_t>()->default_value(0), "seed of tie-breaking, random baseline, bootstrap")
        ("bootstrap", po::value<std::size_t>()->default_value(1000), "bootstrap samples of the 95% intervals")
        ("bias-damping", po::value<double>()->default_value(10.0),
         "damping of the mean-plus-biases baseline (explicit feedback)")
        ("out", po::value<std::string>()->required(), "JSON report")
        ("markdown", po::value<std::string>(), "also write the results table as Markdown to FILE");
      // clang-format on
      add_interaction_options(options, /*required=*/false);
    },
    run_evaluate}};

}  // namespace
}  // namespace tailflow::jobs
