"""Each process's watch on the glossary's stamp (``terms.serving.stamp``) and the
throttle's blocks of numbers (``terms.serving.throttle``), on a real Redis."""

import subprocess
import sys

import pytest

from terms.serving import stamp, throttle
from tests.helpers import ROOT

pytestmark = pytest.mark.django_db


def in_another_process(redis_location: str, code: str) -> None:
    """Run ``code`` with ``stamp`` and a client ``r`` in a fresh interpreter."""
    program = (
        "import redis\nfrom terms.serving import stamp\n"
        f"r = redis.Redis.from_url({redis_location!r})\n{code}\n"
    )
    subprocess.run([sys.executable, "-c", program], cwd=ROOT, check=True, timeout=60)


def location(client) -> str:
    kwargs = client.connection_pool.connection_kwargs
    return f"redis://{kwargs['host']}:{kwargs['port']}/{kwargs['db']}"


def test_changes_made_elsewhere_reach_the_watch(redis_cache):
    client = stamp.client()
    assert stamp.watched(client) is None  # nothing there yet
    in_another_process(location(client), "stamp.replace(r, '7:100')")
    assert stamp.watched(client) == "7:100"
    in_another_process(location(client), "stamp.drop(r)")
    assert stamp.watched(client) is None  # a write is in flight
    in_another_process(location(client), "stamp.put_back(r, '7:100')")
    in_another_process(location(client), "stamp.replace(r, '8:200')")
    assert stamp.watched(client) == "8:200"
    # A reader's stamp never replaces a writer's.
    assert stamp.put_back(client, "7:100") == "8:200"
    assert stamp.watched(client) == "8:200"


def test_the_watch_follows_messages_and_reads_the_key_now_and_then(
    redis_cache, monkeypatch
):
    client = stamp.client()
    stamp.replace(client, "1:1")
    assert stamp.watched(client) == "1:1"
    # Set behind the watch's back (no message): not seen until the key is read.
    client.set(stamp.KEY, "2:2")
    assert stamp.watched(client) == "1:1"
    monkeypatch.setattr(stamp, "RECHECK_SECONDS", 0.0)
    assert stamp.watched(client) == "2:2"


def test_an_older_message_never_replaces_a_newer_stamp(redis_cache):
    client = stamp.client()
    stamp.replace(client, "5:5")
    stamp.replace(client, "6:6")
    newest = int(client.get(stamp.SEQUENCE_KEY))
    client.publish(stamp.channel(client), f"{newest - 1} 5:5")  # late, out of order
    assert stamp.watched(client) == "6:6"


def test_a_broken_subscription_starts_over(redis_cache):
    client = stamp.client()
    stamp.replace(client, "3:3")
    assert stamp.watched(client) == "3:3"
    client.client_kill_filter(_type="pubsub")
    in_another_process(location(client), "stamp.replace(r, '4:4')")
    assert stamp.watched(client) == "4:4"
    in_another_process(location(client), "stamp.replace(r, '5:5')")
    assert stamp.watched(client) == "5:5"  # subscribed again


def test_usual_limits_are_counted_request_by_request(redis_cache):
    assert throttle.block(120) == 1
    counts = [throttle.count("10.1.1.1", (120, 60)) for _ in range(3)]
    assert [c.requests for c in counts] == [1, 2, 3]
    assert int(stamp.client().get(throttle.key("10.1.1.1"))) == 3


def test_high_limits_take_numbers_in_blocks_and_never_allow_too_many(
    redis_cache, monkeypatch
):
    client = stamp.client()
    limits = (1000, 60)
    assert throttle.block(1000) == 10
    first = [throttle.count("10.2.2.2", limits) for _ in range(10)]
    assert [c.requests for c in first] == list(range(1, 11))
    assert int(client.get(throttle.key("10.2.2.2"))) == 10  # one block taken
    throttle.count("10.2.2.2", limits)
    assert int(client.get(throttle.key("10.2.2.2"))) == 20
    # Two processes, each with the numbers it holds, share the limit: at most a
    # block each is left unused, and never is a request past the limit allowed.
    hands = [throttle._held, {}]
    allowed = 11
    for turn in range(2000):
        monkeypatch.setattr(throttle, "_held", hands[turn // 7 % 2])
        allowed += throttle.count("10.2.2.2", limits).allowed
    assert 1000 - 2 * 9 <= allowed <= 1000
    refused = throttle.count("10.2.2.2", limits)
    assert not refused.allowed
    assert 0 < refused.retry_after <= 60


def test_a_glossary_on_another_redis_database_is_not_heard(redis_cache):
    client = stamp.client()
    stamp.replace(client, "1:1")
    elsewhere = f"{location(client).rpartition('/')[0]}/9"
    in_another_process(elsewhere, "stamp.replace(r, '99:99'); r.delete(*r.keys())")
    assert stamp.watched(client) == "1:1"
