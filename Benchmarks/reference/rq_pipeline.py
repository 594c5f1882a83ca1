"""The RQ reference for end-to-end throughput: what `prerender build` does, done by an RQ worker pool.

Usage: MURF_API_KEY=... python rq_pipeline.py REDIS_URL BASE_URL OUTPUT_DIR COUNT WORKERS
Prints one JSON line: {"seconds", "finished", "failed", "jobs_per_second", "workers", "files"}; exits 0 only
if every job finished and OUTPUT_DIR/audio holds exactly COUNT files. Diagnostics go to stderr.

Each job renders one line through the (fake) Murf API: POST /v1/speech/generate, GET the audioFile URL, check
the WAV with soundfile (libsndfile), write it content-addressed to OUTPUT_DIR/audio/<key[:2]>/<key>.wav through
a temporary file and a rename. The API key reaches workers through their environment, never through Redis.

What is timed, and why: WORKERS plain `rq worker` processes (SimpleWorker, JSON serializer, not burst) are
started first and waited for until all are registered in Redis; their start-up (interpreter, rq, numpy and
soundfile imports) is left out, as a deployed RQ pool is already running when a build is enqueued. Job data
(texts, keys) is prepared before the clock too, as in rq_enqueue.py. The clock then runs from just before the
first enqueue_many until the finished and failed registries together hold COUNT jobs (polled every 50 ms, so
the figure may be up to 50 ms long), after which the workers are shut down (SIGTERM: warm shutdown; each
takes about 1 s to leave, joining its pubsub thread, outside the clock).
"""
import hashlib
import http.client
import io
import json
import os
import random
import signal
import subprocess
import sys
import time
from urllib.parse import urlsplit

import soundfile

QUEUE_NAME = "tts_batch"
HERE = os.path.dirname(os.path.abspath(__file__))

# One keep-alive connection per (scheme, host:port), per worker process: a SimpleWorker runs every job in the
# same process, so connections outlive jobs, as a real worker's HTTP client pool does. Without this each job
# would pay two TCP handshakes and the reference would measure connection setup rather than RQ.
_connections: dict = {}


def _fetch(method: str, url: str, body: bytes | None = None, headers: dict | None = None) -> tuple[int, bytes]:
    parts = urlsplit(url)
    where = (parts.scheme, parts.netloc)
    target = parts.path + (f"?{parts.query}" if parts.query else "")
    while True:  # at most twice: a retry always runs on a fresh connection
        conn = _connections.get(where)
        reused = conn is not None
        if not reused:
            factory = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
            conn = _connections[where] = factory(parts.netloc, timeout=60)
        try:
            conn.request(method, target, body=body, headers=headers or {})
            response = conn.getresponse()
            data = response.read()
            if response.will_close:
                conn.close()
                del _connections[where]
            return response.status, data
        except (http.client.HTTPException, OSError):
            conn.close()
            del _connections[where]
            if not reused:  # a fresh connection failed: a real error, for RQ to record
                raise
            # else an idle kept-alive connection the server had closed: once more on a new one


def synthesize(text: str, voice: str, key: str, base_url: str, format: str, sample_rate: int, channels: int,
               output: str) -> dict:
    """The RQ job: one line to one checked WAV file in the content-addressed cache."""
    api_key = os.environ["MURF_API_KEY"]
    request = {"text": text, "voiceId": voice, "format": format.upper(), "sampleRate": sample_rate,
               "channelType": "MONO" if channels == 1 else "STEREO", "encodeAsBase64": False}
    status, body = _fetch("POST", base_url.rstrip("/") + "/v1/speech/generate", json.dumps(request).encode(),
                          {"api-key": api_key, "Content-Type": "application/json", "Accept": "application/json"})
    if status != 200:
        raise RuntimeError(f"generate answered {status}: {body[:200]!r}")
    audio_url = json.loads(body)["audioFile"]
    status, audio = _fetch("GET", audio_url)
    if status != 200:
        raise RuntimeError(f"audio download answered {status}")

    with soundfile.SoundFile(io.BytesIO(audio)) as f:  # raises on anything libsndfile cannot read
        rate, chans, frames = f.samplerate, f.channels, f.frames
        samples = f.read(dtype="float32")
    duration = frames / rate if rate else 0.0
    if rate != sample_rate or chans != channels or frames <= 0:
        raise ValueError(f"unexpected audio: {rate} Hz, {chans} channel(s), {frames} frames")
    if not 0.2 <= duration <= 60:
        raise ValueError(f"implausible duration {duration:.3f} s")
    if float(abs(samples).max()) <= 0:
        raise ValueError("silent audio")

    # Atomic write, as the Swift AtomicFile does: a temporary file in the same folder, then rename (no fsync).
    folder = os.path.join(output, "audio", key[:2])
    os.makedirs(folder, exist_ok=True)
    path = os.path.join(folder, f"{key}.{format}")
    temporary = os.path.join(folder, f".{key}.{format}.tmp-{os.getpid()}-{random.getrandbits(32)}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
    try:
        with os.fdopen(fd, "wb") as out:
            out.write(audio)
        os.replace(temporary, path)
    except BaseException:
        if os.path.exists(temporary):
            os.unlink(temporary)
        raise
    return {"key": key, "bytes": len(audio), "duration_ms": round(duration * 1000), "sample_rate": rate}


def audio_key(text: str, voice: str, format: str, sample_rate: int, channels: int) -> str:
    """sha256 of a canonical JSON (sorted keys, no spaces) of what shapes the sound; the producer computes it."""
    canonical = json.dumps({"v": 1, "text": " ".join(text.split()).lower(), "voice": voice, "format": format,
                            "sample_rate": sample_rate, "channels": channels},
                           sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def main() -> None:
    from redis import Redis
    from rq import Queue, Worker
    from rq.serializers import JSONSerializer

    if len(sys.argv) != 6 or "MURF_API_KEY" not in os.environ:
        sys.exit("usage: MURF_API_KEY=... python rq_pipeline.py REDIS_URL BASE_URL OUTPUT_DIR COUNT WORKERS")
    redis_url, base_url, output = sys.argv[1], sys.argv[2], os.path.abspath(sys.argv[3])
    count, workers = int(sys.argv[4]), int(sys.argv[5])
    redis = Redis.from_url(redis_url)
    queue = Queue(QUEUE_NAME, connection=redis, serializer=JSONSerializer)
    finished, failed = queue.finished_job_registry, queue.failed_job_registry
    audio_dir = os.path.join(output, "audio")
    if queue.count or finished.get_job_count(cleanup=False) or failed.get_job_count(cleanup=False) or Worker.all(redis):
        sys.exit(f"queue {QUEUE_NAME} or its registries or workers are not empty: use a fresh Redis (FLUSHDB)")
    if os.path.isdir(audio_dir) and os.listdir(audio_dir):
        sys.exit(f"{audio_dir} is not empty: use a fresh OUTPUT_DIR")

    # `rq worker`, the way RQ pools are deployed. SimpleWorker runs jobs in the worker process itself: the
    # default Worker forks a work horse per job, which would cost a fork and lose the kept-alive connections
    # every job; the benchmark compares against RQ at its best. `-c rq_pipeline` imports this module as the
    # worker's config (it sets nothing RQ reads) so numpy/soundfile are loaded before the clock starts, not during
    # the first job. --quiet: only warnings and errors (failed jobs) are logged, not two INFO lines per job.
    env = dict(os.environ, PYTHONDONTWRITEBYTECODE="1",  # leave no __pycache__ beside the script
               PYTHONPATH=os.pathsep.join(filter(None, [HERE, os.environ.get("PYTHONPATH")])))
    command = [sys.executable, "-m", "rq.cli", "worker", "--url", redis_url, "-w", "rq.worker.SimpleWorker",
               "--serializer", "rq.serializers.JSONSerializer", "-c", "rq_pipeline", "--quiet",
               QUEUE_NAME]
    pool = [subprocess.Popen(command, env=env, stdout=sys.stderr) for _ in range(workers)]
    try:
        deadline = time.monotonic() + 60
        while len(Worker.all(redis)) < workers:
            if any(p.poll() is not None for p in pool) or time.monotonic() > deadline:
                sys.exit("workers did not start")
            time.sleep(0.05)
        print(f"{workers} workers registered; enqueueing {count} jobs", file=sys.stderr)

        datas = []
        for i in range(count):
            text = f"Zdanie numer {i} do nauki."
            key = audio_key(text, "pl-PL-kasia", "wav", 24000, 1)
            datas.append(Queue.prepare_data(
                "rq_pipeline.synthesize",
                kwargs={"text": text, "voice": "pl-PL-kasia", "key": key, "base_url": base_url, "format": "wav",
                        "sample_rate": 24000, "channels": 1, "output": output},
                timeout=600, result_ttl=604800, ttl=86400))

        start = time.perf_counter()
        for offset in range(0, count, 1000):
            queue.enqueue_many(datas[offset:offset + 1000])
        while True:
            done, bad = finished.get_job_count(cleanup=False), failed.get_job_count(cleanup=False)
            if done + bad >= count:
                break
            if all(p.poll() is not None for p in pool):
                print("every worker exited before the queue was drained", file=sys.stderr)
                break
            time.sleep(0.05)
        seconds = time.perf_counter() - start
    finally:
        for p in pool:  # warm shutdown: an idle worker leaves at once, a busy one after its job
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in pool:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()

    files = sum(len(names) for _, _, names in os.walk(audio_dir))
    print(f"finished {done}, failed {bad}, {files} files in {seconds:.3f} s", file=sys.stderr)
    print(json.dumps({"seconds": round(seconds, 6), "finished": done, "failed": bad,
                      "jobs_per_second": round(done / seconds, 3) if seconds > 0 else 0.0,
                      "workers": workers, "files": files}))
    sys.exit(0 if done == count and bad == 0 and files == count else 1)


if __name__ == "__main__":
    main()
