"""Model-based fitness and rephrase, through a tiny offline transformers model and through a
local OpenAI-compatible HTTP server started by the test."""

from __future__ import annotations

import json
import random
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

from evolve.endpoint import PLAIN_FRAME, EndpointAnswerer, EndpointError
from evolve.fitness import failure_rates
from evolve.loaders import load_source
from evolve.models import Answerer, SamplingParams
from evolve.operators import Context, Rejected, make_operators
from evolve.operators.rephrase import PROMPT
from evolve.pipeline import evolve_source
from evolve.search import EvolveConfig
from evolve.verify import verify_child

ROOT = Path(__file__).resolve().parents[1]
GSM8K = ROOT / "data" / "gsm8k" / "test.jsonl"


@pytest.fixture(scope="module")
def source():
    return load_source(GSM8K, limit=60)


class FakeModel:
    """Answers source problems right (it has 'memorised' them) and anything else wrong;
    paraphrases by prefixing a phrase, or, in `sloppy` mode, by changing a number."""

    def __init__(self, answers: dict[str, str], sloppy: bool = False) -> None:
        self.answers = answers
        self.sloppy = sloppy
        self.calls: list[dict] = []

    def reply(self, prompt: str) -> str:
        if prompt.startswith(PROMPT.split("{text}")[0]):
            text = prompt.split("Problem: ", 1)[1].rsplit("\n\nRewritten problem:", 1)[0]
            if self.sloppy:
                return re.sub(r"\d+", lambda m: str(int(m.group(0)) + 1), text, count=1)
            return "Here is a question. " + text
        gold = self.answers.get(prompt)
        return f"The answer is \\boxed{{{gold}}}." if gold is not None else "I think \\boxed{-1}."


def start_server(model: FakeModel):
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output quiet
            pass

        def _json(self, code, body):
            data = json.dumps(body).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self):
            if self.path == "/v1/models":
                return self._json(200, {"object": "list", "data": [{"id": "fake-7b"}]})
            self._json(404, {"error": "no route"})

        def do_POST(self):
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            model.calls.append({"path": self.path, **body})
            n = body.get("n", 1)
            if self.path == "/v1/completions":
                prompts = body["prompt"] if isinstance(body["prompt"], list) else [body["prompt"]]
                choices = []
                for i, framed in enumerate(prompts):
                    raw = framed[len("Question: ") :].rsplit("\nAnswer:", 1)[0]
                    for j in range(n):
                        choices.append({"index": i * n + j, "text": model.reply(raw)})
                return self._json(200, {"choices": choices})
            if self.path == "/v1/chat/completions":
                content = body["messages"][-1]["content"]
                return self._json(
                    200,
                    {
                        "choices": [
                            {
                                "index": j,
                                "message": {"role": "assistant", "content": model.reply(content)},
                            }
                            for j in range(n)
                        ]
                    },
                )
            self._json(404, {"error": "no route"})

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/v1"


@pytest.fixture()
def served(source):
    model = FakeModel({p.prompt: p.answer for p in source.problems})
    server, url = start_server(model)
    yield model, url
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("mode", ["completions", "chat"])
def test_endpoint_answerer_speaks_the_openai_protocol(served, mode):
    model, url = served
    answerer = EndpointAnswerer(url, mode=mode)
    assert isinstance(answerer, Answerer)
    assert answerer.model == "fake-7b"
    model.answers["What is 2+2?"] = "4"
    out = answerer.complete(
        ["What is 2+2?", "Unknown?"], SamplingParams(n=2, seed=5, max_new_tokens=32)
    )
    assert out == [["The answer is \\boxed{4}."] * 2, ["I think \\boxed{-1}."] * 2]
    call = model.calls[-1]
    assert (
        call["model"] == "fake-7b"
        and call["n"] == 2
        and call["seed"] == 5
        and call["max_tokens"] == 32
    )
    if mode == "completions":
        assert call["prompt"][0] == PLAIN_FRAME.format(prompt="What is 2+2?")


def test_endpoint_errors_are_clear(served):
    _, url = served
    with pytest.raises(EndpointError, match="cannot reach the server"):
        EndpointAnswerer("http://127.0.0.1:9/v1", model="m", timeout=2).complete(
            ["x"], SamplingParams()
        )
    with pytest.raises(ValueError, match="http"):
        EndpointAnswerer("ftp://x", model="m")
    with pytest.raises(EndpointError, match="HTTP 404"):
        EndpointAnswerer(url.replace("/v1", "/nope/v1"), model="m").complete(
            ["x"], SamplingParams()
        )


def test_failure_rates_are_graded(served, source):
    _, url = served
    answerer = EndpointAnswerer(url)
    problems = source.problems[:5]
    children = [
        make_operators(["renumber"])[0].apply([p], random.Random(0), Context())
        for p in problems
        if p.meta["mutable"]
    ][:3]
    rates = failure_rates(problems + children, [answerer], SamplingParams(n=2))
    assert all(rates[p.id] == {answerer.name: 0.0} for p in problems)
    assert all(rates[c.id] == {answerer.name: 1.0} for c in children)


def test_evolve_with_an_endpoint_measures_accuracy_source_vs_evolved(tmp_path, served, source):
    _, url = served
    answerer = EndpointAnswerer(url)
    cfg = EvolveConfig(
        generations=2,
        population=8,
        seed=3,
        operators=["renumber", "distract", "extend", "rephrase"],
    )
    result = evolve_source(GSM8K, tmp_path / "pool", cfg, answerers=[answerer], loaded=source)
    report = json.loads((tmp_path / "pool-report" / "report.json").read_text())
    assert report["fitness"].startswith("measured difficulty")
    assert report["accuracy"] == {"source": {answerer.name: 1.0}, "evolved": {answerer.name: 0.0}}
    assert report["operators"]["rephrase"]["accepted"] > 0
    assert (tmp_path / "pool-report" / "plots" / "accuracy.png").exists()
    for row in result.evolved:
        verify_child(row)
        assert row.features["model_failure_rate"] == 1.0 and row.difficulty == 1.0
    rephrased = [r for r in result.evolved if r.lineage["operator"] == "rephrase"]
    assert all(r.prompt.startswith("Here is a question.") for r in rephrased)


def test_rephrase_rejects_a_paraphrase_that_changes_numbers(source):
    model = FakeModel({}, sloppy=True)
    server, url = start_server(model)
    try:
        ctx = Context(answerer=EndpointAnswerer(url))
        op = make_operators(["rephrase"])[0]
        parent = next(p for p in source.problems if p.meta["mutable"])
        with pytest.raises(Rejected, match="numbers changed"):
            op.apply([parent], random.Random(0), ctx)
    finally:
        server.shutdown()
        server.server_close()
    with pytest.raises(Rejected, match="needs a model"):
        op.apply([parent], random.Random(0), Context())


def test_tiny_transformers_model_drives_fitness(tmp_path, source):
    torch = pytest.importorskip("torch")
    torch.set_num_threads(1)
    from trainers.answerer import TransformersAnswerer
    from trainers.tiny import build_tiny_model

    answerer = TransformersAnswerer(build_tiny_model(tmp_path / "tiny"), batch_size=8)
    cfg = EvolveConfig(
        generations=1,
        population=6,
        seed=1,
        max_new_tokens=8,
        operators=["renumber", "distract", "decoy"],
    )
    result = evolve_source(GSM8K, tmp_path / "pool", cfg, answerers=[answerer], loaded=source)
    report = result.report
    assert report["models"] == [answerer.name]
    assert report["generations"][0]["failure_rate"] is not None
    # An untrained model gets grade-school problems wrong: measured failure is total.
    assert report["accuracy"]["source"][answerer.name] == 0.0
    for row in result.evolved:
        assert 0.0 <= row.features["model_failure_rate"] <= 1.0
    # Greedy decoding: a second run gives the same pool.
    again = evolve_source(GSM8K, tmp_path / "pool2", cfg, answerers=[answerer], loaded=source)
    assert [r.to_row() for r in again.evolved] == [r.to_row() for r in result.evolved]
