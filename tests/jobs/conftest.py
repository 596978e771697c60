import wf_widgets as wf


def slow_value(terms: int = 100) -> wf.Int:
    """A real graph that takes about 20 ms per term (big-integer products), ending in a small Int."""
    big = wf.Int(3) ** 300_000
    total = wf.Int(0)
    for i in range(terms):
        total = total + ((big + i) * big) % 7
    return total


def slow_expected(terms: int = 100) -> int:
    big = 3 ** 300_000
    return sum(((big + i) * big) % 7 for i in range(terms))
