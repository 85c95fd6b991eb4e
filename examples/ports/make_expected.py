#!/usr/bin/python3
"""Writes expected/*.txt: what the original programs of the ports in examples/ print when they
run, unmodified, under Debian's python3-torch 1.13 (docs/ported-programs.md).

Run (from this directory):
  /usr/bin/python3 make_expected.py MICROGRAD TUTORIALS
where MICROGRAD is a checkout of github.com/karpathy/micrograd at commit c911406 and TUTORIALS
holds beginner_source/examples_autograd/polynomial_custom_function.py from
github.com/pytorch/tutorials at commit c53e7d4 and polynomial_autograd.py from commit 92f11a1
(a checkout, or the two files fetched from raw.githubusercontent.com/pytorch/tutorials/<commit>/
into that layout).

Each original runs in a fresh interpreter, through runpy, with only these differences:
- micrograd test/test_engine.py prints nothing (it asserts that micrograd agrees with torch), so
  its two tests are called with a profiler hook that keeps their locals when they return, and the
  torch half's results (ypt, xpt.grad; gpt, apt.grad, bpt.grad) are printed with 17 significant
  digits, the format examples/micrograd_engine.cpp prints them in.
- polynomial_autograd.py draws its initial a, b, c, d with torch.randn and no seed; it runs after
  torch.manual_seed(0), so the figures can be compared (examples/polynomial_fit.cpp starts from
  the same four draws, which this script prints on stderr). It calls torch.set_default_device,
  which torch 1.13 does not have (it is new in 2.0); on the CPU it changes nothing, so here it
  is defined as a function that does nothing.
"""
import pathlib
import subprocess
import sys

HERE = pathlib.Path(__file__).resolve().parent

MICROGRAD_TESTS = r"""
import runpy, sys
root = sys.argv[1]
sys.path.insert(0, root)
tests = runpy.run_path(root + '/test/test_engine.py')
results = {}
def keep_locals(frame, event, arg):
    if event == 'return' and frame.f_code.co_name in ('test_sanity_check', 'test_more_ops'):
        results[frame.f_code.co_name] = dict(frame.f_locals)
sys.setprofile(keep_locals)
tests['test_sanity_check']()
tests['test_more_ops']()
sys.setprofile(None)
def show(test, name, value):
    print(f'{test} {name} {value.item():.17g}')
s, m = results['test_sanity_check'], results['test_more_ops']
show('test_sanity_check', 'y', s['ypt'].data)
show('test_sanity_check', 'x.grad', s['xpt'].grad)
show('test_more_ops', 'g', m['gpt'].data)
show('test_more_ops', 'a.grad', m['apt'].grad)
show('test_more_ops', 'b.grad', m['bpt'].grad)
"""

PLAIN = r"""
import runpy, sys
runpy.run_path(sys.argv[1], run_name='__main__')
"""

SEEDED = r"""
import runpy, sys, torch
torch.manual_seed(0)
draws = [torch.randn((), dtype=torch.float).item() for _ in range(4)]
print('initial a, b, c, d after torch.manual_seed(0):', *draws, file=sys.stderr)
torch.manual_seed(0)
if not hasattr(torch, 'set_default_device'):
    torch.set_default_device = lambda device: None
runpy.run_path(sys.argv[1], run_name='__main__')
"""


def run(snippet, argument, name):
    output = subprocess.run([sys.executable, '-c', snippet, str(argument)], check=True,
                            stdout=subprocess.PIPE, text=True).stdout
    (HERE / 'expected' / f'{name}.txt').write_text(output)
    print(f'wrote expected/{name}.txt', file=sys.stderr)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    micrograd_root = pathlib.Path(sys.argv[1]).resolve()
    examples = pathlib.Path(sys.argv[2]).resolve() / 'beginner_source' / 'examples_autograd'
    (HERE / 'expected').mkdir(exist_ok=True)
    run(MICROGRAD_TESTS, micrograd_root, 'micrograd_engine')
    run(PLAIN, examples / 'polynomial_custom_function.py', 'legendre_polynomial')
    run(SEEDED, examples / 'polynomial_autograd.py', 'polynomial_fit')


if __name__ == '__main__':
    main()
