"""`torch.utils.data`: Dataset, TensorDataset, Subset, random_split and DataLoader — the
batching loop of a training script. Shuffling draws from srcgrad's generator
(`srcgrad.manual_seed`), so a seeded run repeats; the order differs from PyTorch's."""
import numpy as np


class Dataset:
    """Anything with __getitem__(i) and __len__(); `a + b` concatenates."""

    def __getitem__(self, index):
        raise NotImplementedError("a Dataset subclass defines __getitem__")

    def __add__(self, other):
        return ConcatDataset([self, other])


class TensorDataset(Dataset):
    """Samples are the i-th rows of tensors of one first dimension."""

    def __init__(self, *tensors):
        if any(t.shape[0] != tensors[0].shape[0] for t in tensors):
            raise AssertionError("Size mismatch between tensors")
        self.tensors = tensors

    def __getitem__(self, index):
        return tuple(t[index] for t in self.tensors)

    def __len__(self):
        return self.tensors[0].shape[0]


class Subset(Dataset):
    def __init__(self, dataset, indices):
        self.dataset, self.indices = dataset, list(indices)

    def __getitem__(self, index):
        if isinstance(index, list):
            return self.dataset[[self.indices[i] for i in index]]
        return self.dataset[self.indices[index]]

    def __len__(self):
        return len(self.indices)


class ConcatDataset(Dataset):
    def __init__(self, datasets):
        self.datasets = list(datasets)
        self.cumulative_sizes = list(np.cumsum([len(d) for d in self.datasets]))

    def __len__(self):
        return int(self.cumulative_sizes[-1]) if self.cumulative_sizes else 0

    def __getitem__(self, index):
        if index < 0:
            if -index > len(self):
                raise ValueError("absolute value of index should not exceed dataset length")
            index += len(self)
        k = int(np.searchsorted(self.cumulative_sizes, index, side="right"))
        start = int(self.cumulative_sizes[k - 1]) if k else 0
        return self.datasets[k][index - start]


def _permutation(n, generator=None):
    from ..creation import _rng
    rng = generator if isinstance(generator, np.random.Generator) else _rng[0]
    return [int(i) for i in rng.permutation(n)]


def random_split(dataset, lengths, generator=None):
    """Disjoint Subsets of the given lengths (or fractions summing to 1), in a random order."""
    n = len(dataset)
    if all(0 <= f <= 1 for f in lengths) and abs(sum(lengths) - 1) < 1e-9 and sum(lengths) != n:
        counts = [int(np.floor(n * f)) for f in lengths]
        for k in range(n - sum(counts)):  # (the remainder, one each, round-robin: PyTorch's rule)
            counts[k % len(counts)] += 1
        lengths = counts
    if sum(lengths) != n:
        raise ValueError("Sum of input lengths does not equal the length of the input dataset!")
    order = _permutation(n, generator)
    out, start = [], 0
    for m in lengths:
        out.append(Subset(dataset, order[start:start + m]))
        start += m
    return out


def default_collate(batch):
    """A list of samples as one batch: tensors stacked, numbers made tensors, tuples, lists
    and dicts collated field by field."""
    from .. import stack, tensor
    from ..tensor import Tensor
    first = batch[0]
    if isinstance(first, Tensor):
        return stack(batch, 0)
    if isinstance(first, np.ndarray):
        return tensor(np.stack(batch))
    if isinstance(first, (bool, int, float, np.number)):
        return tensor(batch)
    if isinstance(first, str):
        return list(batch)
    if isinstance(first, dict):
        return {k: default_collate([b[k] for b in batch]) for k in first}
    if isinstance(first, tuple) and hasattr(first, "_fields"):
        return type(first)(*(default_collate(list(x)) for x in zip(*batch)))
    if isinstance(first, (tuple, list)):
        if any(len(b) != len(first) for b in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        return [default_collate(list(x)) for x in zip(*batch)]
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or "
                    f"lists; found {type(first)}")


class DataLoader:
    """Batches of a dataset: `batch_size` samples collated (the last one smaller unless
    drop_last), in order or shuffled anew at each pass. Single process (num_workers is
    accepted and ignored)."""

    def __init__(self, dataset, batch_size=1, shuffle=False, sampler=None, batch_sampler=None,
                 num_workers=0, collate_fn=None, pin_memory=False, drop_last=False, timeout=0,
                 worker_init_fn=None, generator=None, **kwargs):
        if batch_size is not None and batch_size <= 0:
            raise ValueError(f"batch_size should be a positive integer value, but got batch_size={batch_size}")
        self.dataset, self.batch_size, self.shuffle = dataset, batch_size, shuffle
        self.sampler, self.batch_sampler = sampler, batch_sampler
        self.drop_last, self.generator = drop_last, generator
        self.collate_fn = collate_fn if collate_fn is not None else (
            default_collate if batch_size is not None or batch_sampler is not None else (lambda x: x))
        self.num_workers = num_workers

    def _indices(self):
        if self.sampler is not None:
            return list(self.sampler)
        n = len(self.dataset)
        return _permutation(n, self.generator) if self.shuffle else list(range(n))

    def _batches(self):
        if self.batch_sampler is not None:
            yield from self.batch_sampler
            return
        indices = self._indices()
        if self.batch_size is None:
            for i in indices:
                yield i
            return
        for start in range(0, len(indices), self.batch_size):
            batch = indices[start:start + self.batch_size]
            if len(batch) < self.batch_size and self.drop_last:
                return
            yield batch

    def __iter__(self):
        for b in self._batches():
            if self.batch_size is None and self.batch_sampler is None:
                yield self.collate_fn(self.dataset[b])
            else:
                yield self.collate_fn([self.dataset[i] for i in b])

    def __len__(self):
        if self.batch_sampler is not None:
            return len(self.batch_sampler)
        n = len(self.sampler) if self.sampler is not None else len(self.dataset)
        if self.batch_size is None:
            return n
        return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
