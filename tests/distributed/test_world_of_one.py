"""needle.distributed outside mpiexec: a world of one, the sampler's shards, SyncBatchNorm and the wrapper.

Nothing here launches MPI (tests/distributed/test_mpi.py does), so these run without mpi4py too.
"""
import sys

import numpy as np
import pytest

import needle as ndl
import needle.nn as nn
from needle import distributed as dist
from needle.testing import check_gradients


@pytest.fixture(autouse=True)
def seeded():
    np.random.seed(0)


def test_outside_a_launcher_the_world_is_rank_0_of_1_and_collectives_keep_values():
    assert dist.init() == 1 and dist.is_initialized()
    assert (dist.rank(), dist.world_size()) == (0, 1) and not dist.launched()
    t = ndl.Tensor(np.arange(3, dtype=np.float32))
    for op in ("sum", "mean", "max"):
        assert dist.all_reduce(t, op=op) is t and t.numpy().tolist() == [0.0, 1.0, 2.0]
    assert dist.broadcast(t) is t
    (gathered,) = dist.all_gather(t)
    assert gathered.numpy().tolist() == [0.0, 1.0, 2.0] and gathered.dtype == np.float32
    dist.barrier()


def test_collectives_refuse_bad_arguments_by_name():
    with pytest.raises(ValueError, match="all_reduce: op must be one of sum, mean, max, got 'min'"):
        dist.all_reduce(np.zeros(2), op="min")
    with pytest.raises(TypeError, match="all_reduce: op 'mean' needs a floating dtype, got int64"):
        dist.all_reduce(np.zeros(2, dtype=np.int64), op="mean")
    with pytest.raises(TypeError, match="broadcast: expected a Tensor or a NumPy array, got list"):
        dist.broadcast([1.0])
    with pytest.raises(ValueError, match=r"broadcast: root must be a rank in 0\.\.0, got 1"):
        dist.broadcast(np.zeros(2), root=1)


def test_under_a_launcher_without_mpi4py_init_names_the_distributed_extra(monkeypatch):
    monkeypatch.setattr(dist.world, "_world", dist.world._World())
    monkeypatch.setenv("PMI_SIZE", "2")
    monkeypatch.setitem(sys.modules, "mpi4py", None)  # import mpi4py now fails
    with pytest.raises(ImportError, match=r"PMI_SIZE=2.*pip install 'needle\[distributed\]'"):
        dist.init()


def test_differentiable_all_reduce_is_the_identity_with_its_gradients_in_a_world_of_one():
    x = np.random.randn(3, 2)
    check_gradients(lambda a: dist.functional.all_reduce(a) * a, x, order=2)
    y = dist.functional.all_reduce(ndl.Tensor(x.astype(np.float32)))
    assert y.dtype == np.float32 and np.array_equal(y.numpy(), x.astype(np.float32))


@pytest.mark.parametrize("shape, reference", [((6, 4), nn.BatchNorm1d), ((3, 4, 2, 2), nn.BatchNorm2d)])
def test_sync_batch_norm_in_a_world_of_one_is_batch_norm(shape, reference):
    x = np.random.randn(*shape)
    ours, theirs = nn.SyncBatchNorm(4, dtype="float64"), reference(4, dtype="float64")
    for layer in (ours, theirs):
        layer.weight.data = ndl.Tensor(np.linspace(0.5, 2.0, 4))
        layer.bias.data = ndl.Tensor(np.linspace(-1.0, 1.0, 4))
    grads = []
    for layer in (ours, theirs):
        inp = ndl.Tensor(x)
        out = layer(inp)
        (out * out).sum().backward()
        grads.append((out.numpy(), inp.grad.numpy(), layer.weight.grad.numpy(), layer.running_var.numpy()))
    for a, b in zip(*grads):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)
    ours.eval(), theirs.eval()
    np.testing.assert_allclose(ours(ndl.Tensor(x)).numpy(), theirs(ndl.Tensor(x)).numpy(), rtol=1e-12)
    check_gradients(lambda a: nn.SyncBatchNorm(4, dtype="float64")(a), x, order=2)


def test_sync_batch_norm_refuses_a_wrong_channel_count_and_converts_a_model():
    with pytest.raises(ValueError, match=r"SyncBatchNorm: expected input of shape \(N, 4, \.\.\.\), got \(2, 3\)"):
        nn.SyncBatchNorm(4)(ndl.Tensor(np.zeros((2, 3), dtype=np.float32)))
    model = nn.Sequential(nn.Linear(3, 4), nn.BatchNorm1d(4), nn.ReLU(), nn.ModuleList([nn.BatchNorm2d(4)]))
    before = model.state_dict()
    converted = nn.SyncBatchNorm.convert_sync_batchnorm(model)
    kinds = [type(m).__name__ for m in converted.modules()]
    assert kinds.count("SyncBatchNorm") == 2 and "BatchNorm1d" not in kinds and "BatchNorm2d" not in kinds
    assert list(converted.state_dict()) == list(before)


@pytest.mark.parametrize("size", [0, 1, 7, 12])
@pytest.mark.parametrize("ranks", [1, 2, 3])
@pytest.mark.parametrize("drop_last", [False, True])
def test_sampler_shards_are_disjoint_equal_and_cover_the_epoch(size, ranks, drop_last):
    if drop_last and 0 < size < ranks:
        with pytest.raises(ValueError, match="DistributedSampler: .* with drop_last"):
            ndl.data.DistributedSampler(size, ranks, 0, drop_last=drop_last)
        return
    samplers = [ndl.data.DistributedSampler(size, ranks, r, seed=4, drop_last=drop_last) for r in range(ranks)]
    shards = [list(s) for s in samplers]
    assert len({len(s) for s in shards}) == 1 and all(len(s) == len(samplers[0]) for s in shards)
    every = [i for shard in shards for i in shard]
    if drop_last:
        assert len(every) == size // ranks * ranks and len(set(every)) == len(every)
    else:
        assert set(every) == set(range(size)) and len(every) == -(-size // ranks) * ranks
        assert len(every) - len(set(every)) < ranks  # padding repeats fewer than one per rank
    order = samplers[0].order()
    assert all(np.array_equal(s.order(), order) for s in samplers)  # one permutation, shared by seed


def test_sampler_draws_a_new_permutation_per_epoch_and_refuses_bad_ranks():
    sampler = ndl.data.DistributedSampler(50, 2, 1, seed=1)
    first = list(sampler)
    sampler.set_epoch(1)
    assert list(sampler) != first
    sampler.set_epoch(0)
    assert list(sampler) == first
    assert list(ndl.data.DistributedSampler(5, 2, 1, shuffle=False)) == [1, 3, 0]
    with pytest.raises(ValueError, match="DistributedSampler: rank 2 is not below num_replicas 2"):
        ndl.data.DistributedSampler(5, 2, 2)


def test_distributed_loader_of_one_rank_reads_what_the_shuffled_loader_reads():
    dataset = ndl.data.NDArrayDataset(np.arange(10.0))
    np.random.seed(3)
    plain = [b[0].numpy().tolist() for b in ndl.data.DataLoader(dataset, 4, shuffle=True)]
    np.random.seed(3)
    loader = ndl.data.DataLoader(dataset, 4, shuffle=True, distributed=True)
    assert [b[0].numpy().tolist() for b in loader] == plain and len(loader) == 3
    sampled = ndl.data.DataLoader(dataset, 4, sampler=ndl.data.DistributedSampler(10, 2, 0, shuffle=False))
    assert [b[0].numpy().tolist() for b in sampled] == [[0.0, 2.0, 4.0, 6.0], [8.0]]
    with pytest.raises(ValueError, match="DataLoader: sampler cannot be combined with shuffle"):
        ndl.data.DataLoader(dataset, 4, shuffle=True, sampler=[0, 1])


def test_wrapper_in_a_world_of_one_keeps_weights_and_gradients_and_buckets_by_size_and_dtype():
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 2))
    before = {k: v.numpy().copy() for k, v in model.state_dict().items()}
    ddp = nn.parallel.DistributedDataParallel(model)
    assert ndl.distributed.DataParallel is nn.parallel.DistributedDataParallel
    assert all(np.array_equal(before[k[len("module."):]], v.numpy()) for k, v in ddp.state_dict().items())
    opt = ddp.attach(ndl.optim.SGD(ddp.parameters(), lr=0.1))
    x = ndl.Tensor(np.random.randn(5, 4).astype(np.float32))
    ddp(x).sum().backward()
    grads = [p.grad.numpy().copy() for p in model.parameters()]
    ddp.average_gradients()
    assert all(np.array_equal(g, p.grad.numpy()) for g, p in zip(grads, model.parameters()))
    opt.step()
    assert len(ddp.buckets()) == 1
    ddp.bucket_cap_mb = 72 / 2**20  # 72 bytes: weights of 128 and 64 bytes, biases of 32 and 8
    assert [[p.shape for p in b] for b in ddp.buckets()] == [[(4, 8)], [(1, 8)], [(8, 2), (1, 2)]]
    model[2].to("float64")
    assert len(nn.parallel.DistributedDataParallel(model).buckets()) == 2  # one per dtype
    with pytest.raises(ValueError, match="DistributedDataParallel.attach: SGD is attached already"):
        ddp.attach(opt)
    with pytest.raises(TypeError, match="DistributedDataParallel: expected a Module, got list"):
        nn.parallel.DistributedDataParallel([model])


def test_shared_parameters_in_a_world_of_one_change_nothing_and_keeping_state_is_declared():
    model = nn.Linear(3, 2)
    opt = nn.parallel.DistributedDataParallel(model).attach(ndl.optim.SGD(model.parameters(), lr=0.5),
                                                           shared_parameters=True)
    before = model.weight.numpy().copy()
    model(ndl.Tensor(np.ones((2, 3), dtype=np.float32))).sum().backward()
    opt.step()
    assert model.weight.cached_data.flags.owndata
    np.testing.assert_allclose(model.weight.numpy(), before - 0.5 * 2.0, rtol=1e-6)
    assert not ndl.optim.SGD(model.parameters()).keeps_state()
    assert ndl.optim.SGD(model.parameters(), momentum=0.9).keeps_state()
    assert ndl.optim.Adam(model.parameters()).keeps_state()


def test_a_bucket_sum_in_a_world_of_one_is_its_private_input_unchanged():
    bucket = dist.world.BucketSum(5, np.float32)
    assert not bucket.shared and bucket.input.shape == (5,) and bucket.input.dtype == np.float32
    bucket.input[:] = np.arange(5)
    assert dist.world.bucket_all_reduce_sum(bucket) is bucket.input
    assert bucket.input.tolist() == [0.0, 1.0, 2.0, 3.0, 4.0]
    bucket.free()
    assert bucket.input is None


def test_packing_into_a_kept_buffer_copies_a_view_of_that_buffer_first():
    from needle.nn.parallel import _pack

    buffer = np.arange(6, dtype=np.float32)
    moved = [buffer[2:6].reshape(2, 2), buffer[0:2]]  # the buffer's own contents, shifted
    out = _pack(moved + [(None, (0,))], np.float32, scale=np.float32(2.0), out=buffer)
    assert out is buffer and out.tolist() == [4.0, 6.0, 8.0, 10.0, 0.0, 2.0]
    zeros = _pack([(None, (2,)), np.ones(1, np.float64)], np.float32)
    assert zeros.tolist() == [0.0, 0.0, 1.0] and zeros.dtype == np.float32
