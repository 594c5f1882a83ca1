"""The reference for `bench enqueue`: RQ's own Queue.enqueue_many, JSON serializer, on the same Redis.

Usage: python rq_enqueue.py REDIS_URL COUNT  -> prints the seconds enqueueing took.
The jobs carry the same kwargs a prerender job does (text, voice, params, format, ...).
"""
import sys
import time

from redis import Redis
from rq import Queue
from rq.serializers import JSONSerializer


def main() -> None:
    url, count = sys.argv[1], int(sys.argv[2])
    redis = Redis.from_url(url)
    queue = Queue("tts_batch", connection=redis, serializer=JSONSerializer)
    datas = [
        Queue.prepare_data(
            "prerender.synthesize",
            kwargs={"text": f"Zdanie numer {i} do nauki.", "voice": "pl-PL-kasia", "synthesizer": "murf",
                    "params": {"voice_id": "pl-PL-kasia", "rate": 0, "pitch": 0}, "format": "wav",
                    "sample_rate": 24000, "channels": 1},
            timeout=600, result_ttl=604800, ttl=86400,
        )
        for i in range(count)
    ]
    start = time.perf_counter()
    for offset in range(0, count, 1000):
        queue.enqueue_many(datas[offset:offset + 1000])
    print(f"{time.perf_counter() - start:.6f}")


if __name__ == "__main__":
    main()
