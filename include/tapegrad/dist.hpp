#pragma once

// Data-parallel training across processes over MPI (Open MPI): declared only when tapegrad was
// built with MPI (CMake option TAPEGRAD_WITH_MPI, which defines the macro for its users too).
// docs/distributed.md says how the pieces fit and why the bits agree with one process.

#ifdef TAPEGRAD_WITH_MPI

#include <tapegrad/nn/module.hpp>
#include <tapegrad/tensor.hpp>

#include <string>
#include <vector>

namespace tg::dist {

/// Starts MPI for this process (MPI_Init_thread, funneled: only the calling thread talks MPI);
/// a tg::Error if it is already started or MPI refuses. Run by mpirun, every process calls it.
void init(int& argc, char**& argv);

/// Ends MPI (MPI_Finalize), on every rank together after the last collective call. After an
/// error, leave it out and exit nonzero: mpirun then ends the whole job instead of waiting.
void finalize();

/// True between init() and finalize().
bool is_initialized();

/// True when this process was started by mpirun (or another PMIx/PMI launcher), read from the
/// environment the launcher sets. A program run alone can then leave MPI unstarted: every call
/// below works without init(), as one rank of one, without MPI's start-up or its allocations.
bool launched_by_mpirun();

/// This process's rank, 0 … world_size() − 1; 0 outside init() … finalize().
int rank();

/// The number of processes in the job; 1 outside init() … finalize().
int world_size();

/// Waits until every rank has called it.
void barrier();

/// Every rank's gradient replaced by the mean of all ranks' gradients, as PyTorch's
/// DistributedDataParallel does, for a loop in which each rank backpropagates its own batch
/// (a DataLoader with LoaderOptions{.rank, .world_size}). One flat buffer per rank is gathered
/// and summed in rank order, so the bits do not depend on MPI's algorithm; a parameter without
/// a gradient counts as zeros, and gets one when any rank has one. The ranks must list the same
/// shapes and dtypes, else a tg::Error on every rank.
void all_reduce_gradients(const std::vector<Tensor>& parameters);

/// all_reduce_gradients over module.parameters().
void all_reduce_gradients(const nn::Module& module);

/// Every rank's tensors overwritten with rank 0's (e.g. after each rank initialized its model
/// from a different seed); the shapes and dtypes must agree, else a tg::Error on every rank.
void broadcast_parameters(const std::vector<Tensor>& tensors);

/// broadcast_parameters over module.state_dict(): parameters and buffers.
void broadcast_parameters(const nn::Module& module);

/// Succeeds on every rank or throws on every rank: a tg::Error naming `op`, the first failing
/// rank and its message when any rank passes a nonempty `local_error`. For work that can fail
/// on one rank only (reading a file), so that no rank walks on into a collective alone.
void agree(const std::string& op, const std::string& local_error);

/// A tg::Error on every rank when the ranks' tensors differ in shape, dtype or any bit
/// (compared by a 64-bit hash of their bytes), e.g. after each rank loaded a checkpoint.
void check_same_on_every_rank(const std::string& op, const std::vector<Tensor>& tensors);

}  // namespace tg::dist

#endif  // TAPEGRAD_WITH_MPI
