#pragma once
// Several one-token products in one parallel region: the selected experts of a decode step.
//
// Decoding one token through a MoE layer multiplies top-k experts' matrices by one activation
// each. One matmul call per expert costs a parallel region (a barrier) per matrix and cuts each
// small matrix between the threads on its own; here the rows of all the jobs are one range split
// between the threads, so every thread streams weights from the first row to the last without
// waiting, and an activation shared by several jobs (the gate and up projections of every expert
// see the same x) is converted to the weights' vec_dot_type once.
#include <cstdint>
#include <span>

#include "engine/tensor/matmul.h"
#include "engine/tensor/thread_pool.h"

namespace moescope {

// y[w.rows] = W · x[w.cols].
struct MatvecJob {
  WeightView w;
  const float* x = nullptr;
  float* y = nullptr;
};

// Every job's y, each value bit-identical to matmul(job.w, job.x, 1, job.y, pool) (the fast
// path's one-token dot kernels). Throws moescope::Error like matmul for an unsupported or
// inconsistent view. Allocates nothing once its scratch has grown to the largest call.
void matvec_group(std::span<const MatvecJob> jobs, ThreadPool& pool);

// y[n_tokens][w.rows] = x[n_tokens][w.cols] · W^T.
struct MatmulJob {
  WeightView w;
  const float* x = nullptr;
  int64_t n_tokens = 0;
  float* y = nullptr;
};

// The batched sibling of matvec_group, for a prompt's experts (each gets a few tokens: 64 experts
// top-8 and 32 tokens give about four): every job's activations are converted in one parallel
// region, then the row x token tiles of all jobs are one range split between the threads by their
// estimated cost, so the threads do not meet at a barrier per expert and matrix. Every value is
// bit-identical to matmul_rowwise(job.w, job.x, job.n_tokens, job.y, pool) with the fast
// precision (the same dot kernels on the same tiles' pairs). Throws moescope::Error like matmul.
void matmul_group(std::span<const MatmulJob> jobs, ThreadPool& pool);

}  // namespace moescope
