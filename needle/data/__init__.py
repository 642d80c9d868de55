"""Datasets, the DataLoader and image transforms; every public name is re-exported here flat."""
from .cifar10 import (
    CIFAR10Dataset, CIFAR10FormatError, cifar10_batch_names, default_cifar10_dir, read_cifar10_batch,
    read_cifar10_binary, read_cifar10_pickle,
)
from .collate import default_collate
from .dataset import Dataset, NDArrayDataset, TensorDataset
from .distributed import DistributedSampler
from .loader import DataLoader
from .mnist import MNISTDataset, MNISTFormatError, default_mnist_dir, parse_mnist, read_idx
from .split import Subset, random_split
from .synthetic import make_linear_regression, make_spiral, train_val_test_split
from .text import CharCorpus, Corpus, Dictionary, batchify, get_batch, pydoc_corpus, pydoc_text
from .transforms import RandomCrop, RandomFlipHorizontal

__all__ = [
    "Dataset", "NDArrayDataset", "TensorDataset", "Subset", "random_split", "DataLoader", "default_collate",
    "MNISTDataset", "MNISTFormatError", "default_mnist_dir", "parse_mnist", "read_idx", "make_spiral",
    "make_linear_regression", "train_val_test_split", "RandomCrop", "RandomFlipHorizontal",
    "Dictionary", "Corpus", "CharCorpus", "pydoc_text", "pydoc_corpus", "batchify", "get_batch",
    "CIFAR10Dataset", "CIFAR10FormatError", "cifar10_batch_names", "default_cifar10_dir", "read_cifar10_batch",
    "read_cifar10_binary", "read_cifar10_pickle", "DistributedSampler",
]
