"""Containers that register the modules they hold: ModuleList and ModuleDict, as in PyTorch."""
from .module import Module

__all__ = ["ModuleList", "ModuleDict"]


def _checked(owner, module):
    if not isinstance(module, Module):
        raise TypeError(f"{owner}: expected a Module, got {type(module).__name__}")
    return module


class ModuleList(Module):
    """A list of modules whose parameters belong to the owner: `self.layers = ModuleList([...])`
    names them `layers.0.weight`, ... . Indexing, slicing (a new ModuleList), len, iteration,
    `append`, `extend` and `insert` work as on a list; it has no `forward`."""

    def __init__(self, modules=(), *, device=None, dtype=None):
        super().__init__(device=device, dtype=dtype)
        self._items = [_checked("ModuleList", m) for m in modules]

    def _contents(self):
        return self._items

    def __getitem__(self, index):
        if isinstance(index, slice):
            return ModuleList(self._items[index])
        return self._items[index]

    def __setitem__(self, index, module):
        self._items[index] = _checked("ModuleList", module)

    def __delitem__(self, index):
        del self._items[index]

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def __iadd__(self, modules):
        return self.extend(modules)

    def append(self, module):
        """Add `module` at the end; returns self."""
        self._items.append(_checked("ModuleList", module))
        return self

    def extend(self, modules):
        """Add each of `modules` at the end; returns self."""
        self._items.extend(_checked("ModuleList", m) for m in modules)
        return self

    def insert(self, index, module):
        """Put `module` before position `index`."""
        self._items.insert(index, _checked("ModuleList", module))

    def _repr_children(self):
        """PyTorch's layout: runs of equal reprs fold into one line, `(0-2): 3 x Linear(...)`."""
        lines, start = [], 0
        reprs = [repr(m) for m in self._items]
        while start < len(reprs):
            end = start
            while end + 1 < len(reprs) and reprs[end + 1] == reprs[start]:
                end += 1
            name = str(start) if end == start else f"{start}-{end}"
            lines.append((name, _Repeated(self._items[start], end - start + 1)))
            start = end + 1
        return lines


class _Repeated:
    """One line of a folded ModuleList repr: `n x repr` (or the repr itself for n = 1)."""

    def __init__(self, module, count):
        self.module, self.count = module, count

    def __repr__(self):
        text = repr(self.module)
        return text if self.count == 1 else f"{self.count} x {text}"


class ModuleDict(Module):
    """A dict of modules (string keys, insertion order) whose parameters are named `key.weight`, ... .
    `d[key]`, `d[key] = m`, `del`, `in`, len, iteration over keys, `keys`, `values`, `items`, `update`."""

    def __init__(self, modules=None, *, device=None, dtype=None):
        super().__init__(device=device, dtype=dtype)
        self._items = {}
        if modules is not None:
            self.update(modules)

    def _contents(self):
        return self._items

    def __getitem__(self, key):
        return self._items[key]

    def __setitem__(self, key, module):
        if not isinstance(key, str):
            raise TypeError(f"ModuleDict: keys must be strings, got {type(key).__name__}")
        self._items[key] = _checked("ModuleDict", module)

    def __delitem__(self, key):
        del self._items[key]

    def __contains__(self, key):
        return key in self._items

    def __len__(self):
        return len(self._items)

    def __iter__(self):
        return iter(self._items)

    def keys(self):
        return self._items.keys()

    def values(self):
        return self._items.values()

    def items(self):
        return self._items.items()

    def update(self, modules):
        """Add the (key, module) pairs of a dict or an iterable of pairs."""
        pairs = modules.items() if hasattr(modules, "items") else modules
        for key, module in pairs:
            self[key] = module

    def pop(self, key):
        """Remove the module under `key` and return it."""
        return self._items.pop(key)
