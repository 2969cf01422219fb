"""``tg.jit``: a training step recorded once, then replayed as straight-line NumPy code.

The first call of a signature runs the step eagerly on tracer arrays (``tracer``), which log
every array operation of forward, backward and the optimizer update (``recording``,
``record``). The log is pruned and planned (``program``) and written out as a Python function
(``codegen``, ``source``) that later calls run: no Tensors, no graph, no per-op dispatch, and
buffers reused from call to call. ``step.source()`` shows that function. See docs/jit.md.
"""

from tinygrad_np.compiler.recording import JitError
from tinygrad_np.compiler.step import CompiledStep, JitWarning, jit

__all__ = ["CompiledStep", "JitError", "JitWarning", "jit"]
