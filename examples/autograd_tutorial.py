"""The PyTorch autograd tutorial srcgrad started from, run as written.

The only change from the original is the two imports. At the end, srcgrad shows the
Python it generated for the backward passes.
"""
# Autograd: automatic differentiation
#
# The ``autograd`` package provides automatic differentiation for all operations
# on Tensors. It is a define-by-run framework, which means that your backprop is
# defined by how your code is run, and that every single iteration can be
# different.

import srcgrad as torch
from srcgrad.autograd import Variable

# Create a variable:
x = Variable(torch.Tensor([[1, 2], [3, 4]]), requires_grad=True)
print(x)

# Do an operation of variable:
y = x - 2
print(y)

# ``y`` was created as a result of an operation, so it has a ``grad_fn``.
print(y.grad_fn)
print(x.grad_fn)
print(repr(y.grad_fn))
print(y.grad_fn.next_functions[0][0])
print(y.grad_fn.next_functions[0][0].variable)

# Do more operations on y
z = y * y * 3
out = z.mean()

print(z, out)

# Gradients: let's backprop now.
# ``out.backward()`` is equivalent to doing ``out.backward(torch.Tensor([1.0]))``
out.backward()

# print gradients d(out)/dx
print(x.grad)
seed_backward = torch.inspect.backward_source(out)

# You can do many crazy things with autograd!
# > With Great *Flexibility* Comes Great Responsibility

# Dynamic graphs!
x = torch.randn(3)
x = Variable(x, requires_grad=True)

y = x * 2
while y.data.norm() < 1000:
    y = y * 2

print(y)

gradients = torch.FloatTensor([0.1, 1.0, 0.0001])
y.backward(gradients)

print(x.grad)
loop_backward = torch.inspect.backward_source(y)

# Inference
d = 3
t = torch.arange(1, d + 1)

t_v = Variable(t, requires_grad=True)
theta = Variable(torch.ones(d), requires_grad=True)
s = theta @ t_v
s.backward()
print(t_v.grad, theta.grad)

t_v = Variable(t)
theta = Variable(torch.ones(d), requires_grad=True)
s = theta @ t_v
s.backward()
print(t_v.grad, theta.grad, sep='\n')

t_v = Variable(t, volatile=True)
theta = Variable(torch.ones(d), requires_grad=True)
s = theta @ t_v
try:
    s.backward()  # volatile: nothing was recorded, so there is nothing to differentiate
except RuntimeError as e:
    print("RuntimeError:", e)
print(t_v.grad, theta.grad, sep='\n')

# What srcgrad generated for the two backward passes above
print()
print(seed_backward)
print(loop_backward)
