"""`torch.save` / `torch.load`: any object holding tensors (a state_dict, a checkpoint
dict, a model) pickled to a path or a file object. The format is srcgrad's own (a
pickle), not PyTorch's zip archive: files are read back by srcgrad."""
import io
import os
import pickle


def save(obj, f, pickle_module=pickle, pickle_protocol=pickle.HIGHEST_PROTOCOL, **kwargs):
    if isinstance(f, (str, os.PathLike)):
        with open(f, "wb") as fh:
            pickle_module.dump(obj, fh, protocol=pickle_protocol)
    else:
        pickle_module.dump(obj, f, protocol=pickle_protocol)


def load(f, map_location=None, pickle_module=pickle, weights_only=None, mmap=None, **kwargs):
    """map_location is accepted and ignored: srcgrad has one device."""
    if isinstance(f, (str, os.PathLike)):
        with open(f, "rb") as fh:
            return pickle_module.load(fh)
    if isinstance(f, (bytes, bytearray)):
        return pickle_module.load(io.BytesIO(f))
    return pickle_module.load(f)
