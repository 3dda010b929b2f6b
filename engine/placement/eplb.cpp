#include "engine/placement/eplb.h"

#include <algorithm>
#include <numeric>

#include "engine/common/error.h"

namespace moescope::placement {
namespace {

struct Replication {
  std::vector<int32_t> phy2log;  // [num_phy]
  std::vector<int32_t> rank;     // [num_phy]
  std::vector<int32_t> logcnt;   // [num_log]
};

// Adds replicas one at a time to the expert whose load per replica is highest, minimising the
// largest load any single replica carries.
Replication replicate_experts(const std::vector<float>& weight, int32_t num_phy) {
  const int32_t num_log = static_cast<int32_t>(weight.size());
  Replication r;
  r.phy2log.resize(size_t(num_phy));
  r.rank.assign(size_t(num_phy), 0);
  r.logcnt.assign(size_t(num_log), 1);
  std::iota(r.phy2log.begin(), r.phy2log.begin() + num_log, 0);
  for (int32_t i = num_log; i < num_phy; ++i) {
    int32_t best = 0;
    float best_load = weight[0] / float(r.logcnt[0]);
    for (int32_t e = 1; e < num_log; ++e) {
      const float load = weight[size_t(e)] / float(r.logcnt[size_t(e)]);
      if (load > best_load) best = e, best_load = load;
    }
    r.phy2log[size_t(i)] = best;
    r.rank[size_t(i)] = r.logcnt[size_t(best)]++;
  }
  return r;
}

std::vector<int32_t> inverse(const std::vector<int32_t>& perm) {
  std::vector<int32_t> inv(perm.size());
  for (size_t i = 0; i < perm.size(); ++i) inv[size_t(perm[i])] = static_cast<int32_t>(i);
  return inv;
}

struct LayerResult {
  std::vector<int32_t> phy2log, phyrank, logcnt;
};

LayerResult rebalance_layer(const std::vector<float>& weight, int32_t num_phy, int32_t groups,
                            int32_t nodes, int32_t gpus) {
  const int32_t num_log = static_cast<int32_t>(weight.size());
  const int32_t group_size = num_log / groups;
  const int32_t groups_per_node = groups / nodes;
  const int32_t phy_per_gpu = num_phy / gpus;
  const int32_t log_per_node = num_log / nodes;
  const int32_t phy_per_node = num_phy / nodes;

  // Step 1: expert groups to nodes; "mlog" numbers the experts node by node.
  std::vector<float> group_load(static_cast<size_t>(groups), 0.0f);
  for (int32_t e = 0; e < num_log; ++e) group_load[size_t(e / group_size)] += weight[size_t(e)];
  const auto [group_pack, group_rank] = balanced_packing(group_load, nodes);
  std::vector<int32_t> log2mlog(static_cast<size_t>(num_log));
  for (int32_t e = 0; e < num_log; ++e) {
    const int32_t g = e / group_size;
    log2mlog[size_t(e)] =
        (group_pack[size_t(g)] * groups_per_node + group_rank[size_t(g)]) * group_size +
        e % group_size;
  }
  const std::vector<int32_t> mlog2log = inverse(log2mlog);

  LayerResult out;
  out.phy2log.resize(size_t(num_phy));
  out.phyrank.resize(size_t(num_phy));
  std::vector<int32_t> mlogcnt(static_cast<size_t>(num_log));
  for (int32_t n = 0; n < nodes; ++n) {
    // Step 2: replicas within the node.
    std::vector<float> node_load(static_cast<size_t>(log_per_node));
    for (int32_t i = 0; i < log_per_node; ++i)
      node_load[size_t(i)] = weight[size_t(mlog2log[size_t(n * log_per_node + i)])];
    const Replication rep = replicate_experts(node_load, phy_per_node);
    // Step 3: the node's replicas onto its GPUs.
    std::vector<float> phy_load(static_cast<size_t>(phy_per_node));
    for (int32_t p = 0; p < phy_per_node; ++p) {
      const int32_t m = rep.phy2log[size_t(p)];
      phy_load[size_t(p)] = node_load[size_t(m)] / float(rep.logcnt[size_t(m)]);
    }
    const auto [pack, rank] = balanced_packing(phy_load, gpus / nodes);
    std::vector<int32_t> phy2pphy(static_cast<size_t>(phy_per_node));
    for (int32_t p = 0; p < phy_per_node; ++p)
      phy2pphy[size_t(p)] = pack[size_t(p)] * phy_per_gpu + rank[size_t(p)];
    const std::vector<int32_t> pphy2phy = inverse(phy2pphy);
    // Step 4: back to global ids.
    for (int32_t s = 0; s < phy_per_node; ++s) {
      const int32_t p = pphy2phy[size_t(s)];
      const int32_t mlog = rep.phy2log[size_t(p)] + n * log_per_node;
      out.phy2log[size_t(n * phy_per_node + s)] = mlog2log[size_t(mlog)];
      out.phyrank[size_t(n * phy_per_node + s)] = rep.rank[size_t(p)];
    }
    for (int32_t i = 0; i < log_per_node; ++i)
      mlogcnt[size_t(n * log_per_node + i)] = rep.logcnt[size_t(i)];
  }
  out.logcnt.resize(size_t(num_log));
  for (int32_t e = 0; e < num_log; ++e) out.logcnt[size_t(e)] = mlogcnt[size_t(log2mlog[size_t(e)])];
  return out;
}

}  // namespace

std::pair<std::vector<int32_t>, std::vector<int32_t>> balanced_packing(
    const std::vector<float>& weight, int32_t num_packs) {
  const int32_t n = static_cast<int32_t>(weight.size());
  const int32_t per_pack = n / num_packs;
  std::vector<int32_t> pack(static_cast<size_t>(n), -1), rank(size_t(n), -1);
  if (per_pack == 1) {
    std::iota(pack.begin(), pack.end(), 0);
    std::fill(rank.begin(), rank.end(), 0);
    return {pack, rank};
  }
  std::vector<int32_t> order(static_cast<size_t>(n));
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int32_t a, int32_t b) { return weight[size_t(a)] > weight[size_t(b)]; });
  std::vector<float> pack_load(static_cast<size_t>(num_packs), 0.0f);
  std::vector<int32_t> pack_items(static_cast<size_t>(num_packs), 0);
  for (int32_t item : order) {
    int32_t best = -1;
    for (int32_t p = 0; p < num_packs; ++p) {
      if (pack_items[size_t(p)] >= per_pack) continue;
      if (best < 0 || pack_load[size_t(p)] < pack_load[size_t(best)]) best = p;
    }
    pack[size_t(item)] = best;
    rank[size_t(item)] = pack_items[size_t(best)]++;
    pack_load[size_t(best)] += weight[size_t(item)];
  }
  return {pack, rank};
}

EplbResult rebalance_experts(const std::vector<std::vector<double>>& weight,
                             int32_t num_replicas, std::optional<int32_t> num_groups,
                             int32_t num_nodes, int32_t num_gpus) {
  EplbResult result;
  if (weight.empty()) return result;
  const int32_t num_log = static_cast<int32_t>(weight[0].size());
  if (num_gpus < 1 || num_nodes < 1 || num_gpus % num_nodes != 0)
    fail("EPLB: {} GPUs cannot be spread evenly over {} nodes", num_gpus, num_nodes);
  if (num_replicas < num_log || num_replicas % num_gpus != 0)
    fail("EPLB: {} physical experts must be at least the {} logical ones and a multiple of the "
         "{} GPUs",
         num_replicas, num_log, num_gpus);
  result.hierarchical = num_groups && *num_groups > 0 && *num_groups % num_nodes == 0;
  const int32_t groups = result.hierarchical ? *num_groups : 1;
  const int32_t nodes = result.hierarchical ? num_nodes : 1;
  if (num_log % groups != 0)
    fail("EPLB: {} experts cannot form {} equal groups", num_log, groups);
  for (const std::vector<double>& row : weight) {
    if (static_cast<int32_t>(row.size()) != num_log)
      fail("EPLB: every layer must have {} experts", num_log);
    std::vector<float> w(row.begin(), row.end());
    LayerResult lr = rebalance_layer(w, num_replicas, groups, nodes, num_gpus);
    const int32_t max_cnt = *std::max_element(lr.logcnt.begin(), lr.logcnt.end());
    std::vector<std::vector<int32_t>> l2p(static_cast<size_t>(num_log), std::vector<int32_t>(size_t(max_cnt), -1));
    for (int32_t s = 0; s < num_replicas; ++s)
      l2p[size_t(lr.phy2log[size_t(s)])][size_t(lr.phyrank[size_t(s)])] = s;
    result.phy2log.push_back(std::move(lr.phy2log));
    result.phyrank.push_back(std::move(lr.phyrank));
    result.logcnt.push_back(std::move(lr.logcnt));
    result.log2phy.push_back(std::move(l2p));
  }
  return result;
}

Placement eplb_placement(const std::vector<std::vector<double>>& loads, const Topology& topology,
                         int32_t redundant, std::optional<int32_t> num_groups) {
  Placement placement{.algorithm = "eplb", .topology = topology, .layers = {}};
  for (const std::vector<double>& row : loads) {
    const int32_t slots = static_cast<int32_t>(row.size()) + redundant;
    const EplbResult r = rebalance_experts({row}, slots, num_groups, topology.nodes,
                                           topology.devices);
    LayerPlacement layer;
    layer.slots_per_device = slots / topology.devices;
    for (int32_t e : r.phy2log[0]) layer.phy2log.push_back(ExpertId(e));
    placement.layers.push_back(std::move(layer));
  }
  return placement;
}

}  // namespace moescope::placement
