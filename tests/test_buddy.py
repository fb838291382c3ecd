"""Hand-worked kernel cases for kmemlib.buddy (mm/page_alloc.c)."""

from kmemlib.buddy import Zone


def test_contract_order0_from_order10():
    # An order-0 request on a zone that is one free order-10 block: __rmqueue_smallest takes
    # the order-10 head, expand() keeps PFN 0 and leaves one free block at each order 0..9.
    z = Zone(1024)
    assert z.nr_free() == [0] * 10 + [1]
    assert z.alloc_pages(0) == 0
    assert z.nr_free() == [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0]
    assert z.free_pages_count() == 1023
    # the upper halves sit at 512, 256, ..., 1
    assert z.free_blocks() == sorted((1 << o, o, z.free_blocks()[0][2]) for o in range(10))
    z.free_pages(0, 0)
    assert z.nr_free() == [0] * 10 + [1]
    assert any(e.kind == "split" for e in z.events)
