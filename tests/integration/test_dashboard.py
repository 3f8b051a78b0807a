"""The dashboard in headless Chromium against the real worker, Redis and `insights reader`."""

import asyncio
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from playwright.async_api import Browser, ConsoleMessage, Page, Route
from playwright.async_api import Error as PlaywrightError

from insights.demo import child, wait_for_http
from insights.embedded import StackEndpoints, free_port
from insights.producer import produce
from streams.core.keys import KeyLayout
from streams.settings import Settings
from streams.store import connect_redis
from streams.tokens import RedisTokenStore
from tests.integration.browser import (
    DESKTOP,
    PHONE,
    chromium,
    require_chromium,
    screenshot_path,
)
from tests.integration.conftest import WorkerFactory

pytestmark = pytest.mark.integration

ORG = "acme"
SERIES = ("all", "free", "standard", "premium", "enterprise")
LABELS = ["All plans", "Free", "Standard", "Premium", "Enterprise"]
PRODUCTS = ("trello", "jira", "confluence", "jsm")
# Day offsets from the first day of the range: nothing at all arrives on MISSING, only trello
# on TRELLO_ONLY (partial for all products), and the range ends today (partial: not over).
DAYS, MISSING, TRELLO_ONLY = 7, 2, 4


def at(day: date, hour: int = 12) -> str:
    """An RFC 3339 instant on that UTC day."""
    return datetime.combine(day, time(hour), UTC).isoformat().replace("+00:00", "Z")


def login(user: str, day: date, product: str = "trello", hour: int = 12) -> bytes:
    """A managed login of acme's."""
    email = f"{user}@acme.com"
    event = {"type": "login", "user_id": user, "email": email, "product": product}
    return orjson.dumps({**event, "occurred_at": at(day, hour)})


def heartbeats(day: date, products: tuple[str, ...] = PRODUCTS) -> list[bytes]:
    """Coverage for those products on that day, with or without logins."""
    return [
        orjson.dumps({"type": "heartbeat", "product": product, "occurred_at": at(day, 0)})
        for product in products
    ]


def week_of_events(first: date) -> list[bytes]:
    """Five users over seven days ending today; u1 upgrades on day 5, u2 has been premium."""
    day = [first + timedelta(days=offset) for offset in range(DAYS)]
    control = [
        {"type": "domain_claim", "org_id": ORG, "domain": "acme.com", "action": "claim",
         "effective_at": at(first - timedelta(days=30))},
        {"type": "plan_change", "user_id": "u2", "product": "trello", "plan": "premium",
         "effective_at": at(first - timedelta(days=10))},
        {"type": "plan_change", "user_id": "u1", "product": "trello", "plan": "enterprise",
         "effective_at": at(day[5], 0)},
    ]  # fmt: skip
    lines = [orjson.dumps(event) for event in control]
    for offset in (0, 1, 3, 5):
        lines += heartbeats(day[offset])
    lines += heartbeats(day[TRELLO_ONLY], ("trello",))
    lines += heartbeats(day[6])  # today, at midnight: already in the past
    lines += [
        login("u1", day[0]), login("u2", day[0]), login("u3", day[0], "jira"),
        login("u1", day[1]), login("u4", day[1], "confluence"),
        login("u2", day[3]), login("u3", day[3], "jira"), login("u5", day[3], "jsm"),
        login("u1", day[TRELLO_ONLY]),
        login("u1", day[5]), login("u3", day[5], "jira"),
        login("u2", day[6], hour=0),
    ]  # fmt: skip
    return lines


async def create_token(settings: Settings, org: str = ORG) -> str:
    """A reader token for the org (acme by default) from the real token store."""
    client = connect_redis(settings, fail_fast_s=2.0)
    try:
        token, _ = await RedisTokenStore(client, KeyLayout(settings.key_prefix)).create(org)
        return token
    finally:
        await client.aclose()


@contextmanager
def reader_process(env: dict[str, str], log: Path) -> Iterator[str]:
    """`insights reader` on a free loopback port, as users run it; yields its base URL."""
    port = free_port()
    with child(["reader", "--port", str(port)], env, log) as process:
        base_url = f"http://127.0.0.1:{port}"
        wait_for_http(f"{base_url}/healthz", process, log, timeout_s=20)
        yield base_url


async def sign_in(page: Page, token: str, org: str = ORG) -> None:
    """Enter the organization and token in the form, as a person would."""
    await page.fill("#org-input", org)
    await page.fill("#token-input", token)
    await page.click("#sign-in-form button[type=submit]")


async def show_range(page: Page, start: str, end: str) -> None:
    """Pick custom dates (all products, per day) and wait until exactly that is drawn."""
    await page.select_option("#product", "all")
    await page.check("#interval-day")
    await page.fill("#start", start)
    await page.fill("#end", end)
    shown = f'#dashboard[data-product="all"][data-start="{start}"][data-end="{end}"]'
    await page.wait_for_selector(f'body[data-state="ready"] {shown}[data-interval="day"]')


CHART_STATE = """() => {
  const chart = Chart.getChart(document.getElementById("chart"));
  const zero = chart.scales.y.getPixelForValue(0);
  return {
    labels: chart.data.labels,
    datasets: chart.data.datasets.map((set, index) => {
      const meta = chart.getDatasetMeta(index);
      return {
        label: set.label,
        data: set.data,
        dropsToZero: meta.data.map((point) => Math.abs(point.y - zero) < 0.5),
        segments: meta.dataset.segments.map((s) => ({
          start: s.start, end: s.end, dash: (s.style && s.style.borderDash) || [],
        })),
      };
    }),
  };
}"""


def dash_per_step(segments: list[dict[str, Any]], steps: int) -> list[bool]:
    """For each step i -> i+1 of the line, whether Chart.js strokes it dashed."""
    dashed = [False] * steps
    for segment in segments:
        for step in range(segment["start"], segment["end"]):
            dashed[step] = bool(segment["dash"])
    return dashed


async def tooltip_at(page: Page, index: int) -> dict[str, Any]:
    """Hover period `index` of the all-plans line and read the tooltip Chart.js built."""
    point = await page.evaluate(
        """(index) => {
          const chart = Chart.getChart(document.getElementById("chart"));
          const canvas = chart.canvas.getBoundingClientRect();
          const element = chart.getDatasetMeta(0).data[index];
          return { x: canvas.left + element.x, y: canvas.top + element.y };
        }""",
        index,
    )
    await page.mouse.move(point["x"], point["y"])
    # Polled from here: the page's CSP (no eval) forbids Playwright's wait_for_function.
    for _ in range(50):
        tooltip: dict[str, Any] = await page.evaluate(
            """() => {
              const tip = Chart.getChart(document.getElementById("chart")).tooltip;
              return {
                opacity: tip.opacity,
                index: tip.dataPoints?.[0]?.dataIndex ?? -1,
                title: tip.title,
                body: tip.body.flatMap((part) => part.lines),
                footer: tip.footer,
              };
            }"""
        )
        if tooltip["opacity"] > 0 and tooltip["index"] == index:
            return tooltip
        await asyncio.sleep(0.05)
    raise AssertionError(f"no tooltip for period {index}: {tooltip}")


def assert_chart_is_the_document(chart: dict[str, Any], document: dict[str, Any]) -> None:
    """Every series drawn with the API's values; missing periods dotted down to 0."""
    missing = document["missing"]
    steps = len(missing) - 1
    expected_dash = [missing[i] or missing[i + 1] for i in range(steps)]
    assert chart["labels"] == document["periods"]
    assert [dataset["label"] for dataset in chart["datasets"]] == LABELS
    for name, dataset in zip(SERIES, chart["datasets"], strict=True):
        values = document["series"][name]
        assert dataset["data"] == [0 if value is None else value for value in values], name
        assert dash_per_step(dataset["segments"], steps) == expected_dash, name
        for index, is_missing in enumerate(missing):
            if is_missing:
                assert dataset["dropsToZero"][index], (name, index)


@dataclass
class ApiAnswers:
    """What the API itself says for the parameters the test will pick in the page."""

    document: dict[str, Any]
    csv: httpx.Response
    domains: dict[str, Any]


async def ask_api(base_url: str, token: str, params: dict[str, str]) -> ApiAnswers:
    """The JSON, the CSV and the domains, straight from the reader."""
    path = f"/api/v1/orgs/{ORG}/active-users"
    auth = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=base_url, timeout=10, headers=auth) as http:
        document = (await http.get(path, params=params)).json()
        exported = await http.get(path + ".csv", params=params)
        domains = (await http.get(f"/api/v1/orgs/{ORG}/domains")).json()
    return ApiAnswers(document, exported, domains)


@dataclass
class PageWatch:
    """Every URL the page requested, and every error it reported."""

    requests: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def attach(self, page: Page) -> None:
        """Listen to the page's requests, console and uncaught errors."""
        page.on("request", lambda request: self.requests.append(request.url))
        page.on("console", self.note_console)
        page.on("pageerror", lambda error: self.problems.append(f"page error: {error}"))

    def note_console(self, message: ConsoleMessage) -> None:
        """Errors and warnings, except Chromium's log lines for the answers the test provokes:
        the wrong token's 401 and the too-long range's 400."""
        provoked = ("status of 401", "status of 400")
        if message.type in ("error", "warning") and not any(s in message.text for s in provoked):
            self.problems.append(f"console {message.type}: {message.text}")


async def check_chart(page: Page, document: dict[str, Any]) -> None:
    """The drawn chart, its tooltips and its missing-period attribute match the document."""
    assert await page.evaluate("() => window.insightsDashboard.document") == document
    assert_chart_is_the_document(await page.evaluate(CHART_STATE), document)
    missing_day = document["periods"][MISSING]
    assert await page.get_attribute("#chart", "data-missing-periods") == missing_day

    missed = await tooltip_at(page, MISSING)
    assert missed["body"] == [f" {label}: no data" for label in LABELS]
    assert missed["footer"][0].startswith("Missing")
    partial = await tooltip_at(page, TRELLO_ONLY)
    values = [document["series"][name][TRELLO_ONLY] for name in SERIES]
    assert partial["body"] == [f" {label}: {n}" for label, n in zip(LABELS, values, strict=True)]
    assert partial["footer"][0].startswith("Partial")


async def check_tables(page: Page, answers: ApiAnswers) -> None:
    """The totals table holds the API's totals; the domains table its domains."""
    totals = await page.eval_on_selector_all(
        "#totals tbody tr", "rows => rows.map(r => [r.dataset.series, r.cells[1].dataset.value])"
    )
    assert totals == [[name, str(answers.document["totals"][name])] for name in SERIES]
    await page.wait_for_selector("#domains tbody tr[data-domain]")
    listed = await page.eval_on_selector_all(
        "#domains tbody tr", "rows => rows.map(r => [r.dataset.domain, r.cells[2].textContent])"
    )
    expected = [[d["domain"], str(d["active_users"])] for d in answers.domains["domains"]]
    assert listed == expected


async def check_csv_download(page: Page, exported: httpx.Response) -> None:
    """The downloaded file is the API's CSV, byte for byte and by name."""
    async with page.expect_download() as download_info:
        await page.click("#download-csv")
    download = await download_info.value
    assert (await download.path()).read_bytes() == exported.content
    disposition = exported.headers["content-disposition"]
    assert disposition == f'attachment; filename="{download.suggested_filename}"'


async def check_refused_range(page: Page, start: str) -> None:
    """A range longer than the retention is refused (by the page, before the API would), the
    last chart stays up, the notice says which, and no CSV is offered until the next answer."""
    assert await page.is_enabled("#download-csv")
    await page.fill("#start", "2000-01-01")  # longer than the retention window
    await page.wait_for_selector('body[data-state="error"]')
    notice = await page.inner_text("#status")
    assert "The reader keeps 400 days" in notice, notice
    assert "The chart still shows" in notice, notice
    assert await page.is_disabled("#download-csv")
    await page.fill("#start", start)
    await page.wait_for_selector('body[data-state="ready"]')
    assert await page.is_enabled("#download-csv")


async def take_screenshots(page: Page) -> None:
    """Desktop and phone pictures for people; the phone must not scroll sideways."""
    await page.mouse.move(0, 0)  # no hover styles in the pictures
    await page.screenshot(path=screenshot_path("dashboard-desktop"), full_page=True)
    await page.set_viewport_size(PHONE)
    await page.wait_for_timeout(300)  # Chart.js resizes on the next animation frame
    width = await page.evaluate("() => document.documentElement.scrollWidth")
    assert width <= PHONE["width"], "the page scrolls sideways on a phone"
    await page.screenshot(path=screenshot_path("dashboard-phone"), full_page=True)


async def test_the_dashboard_shows_what_the_api_answers(
    settings: Settings,
    start_worker: WorkerFactory,
    pipeline_env: dict[str, str],
    tmp_path: Path,
) -> None:
    """Sign in, pick a week with a missing day; chart, tooltips, tables and CSV match the API."""
    require_chromium()  # before the pipeline work: a missing browser fails in a second
    today = datetime.now(UTC).date()
    first = today - timedelta(days=DAYS - 1)
    start_worker()
    lines = week_of_events(first)
    await produce(settings, lines, None, wait=True, timeout_s=120, progress=lambda *_: None)
    token = await create_token(settings)
    params = {"product": "all", "start": first.isoformat(), "end": today.isoformat()}
    watch = PageWatch()
    with reader_process(pipeline_env, tmp_path / "reader.log") as base_url:
        answers = await ask_api(base_url, token, {**params, "interval": "day"})
        # The data is what the test means it to be, so the browser checks below can fail.
        assert answers.document["missing"] == [i == MISSING for i in range(DAYS)]
        assert answers.document["partial"] == [i in (TRELLO_ONLY, DAYS - 1) for i in range(DAYS)]
        assert answers.document["totals"] == {
            "all": 5, "free": 4, "standard": 0, "premium": 1, "enterprise": 1,
        }  # fmt: skip
        async with chromium() as browser:
            context = await browser.new_context(
                viewport=DESKTOP, reduced_motion="reduce", accept_downloads=True
            )
            page = await context.new_page()
            watch.attach(page)
            await page.goto(base_url + "/")
            await sign_in(page, "oit_not-a-token")
            await page.wait_for_selector("#sign-in-error:not([hidden])")
            assert "unknown" in await page.inner_text("#sign-in-error")
            await sign_in(page, token)
            await show_range(page, params["start"], params["end"])
            await check_chart(page, answers.document)
            await check_tables(page, answers)
            await check_csv_download(page, answers.csv)
            await check_refused_range(page, params["start"])
            await take_screenshots(page)
            stored = await page.evaluate("() => sessionStorage.getItem('insights.token')")
            await context.close()
    assert stored == token
    assert watch.problems == []
    assert watch.requests, "the browser made no requests"
    assert all(url.startswith(base_url + "/") for url in watch.requests)  # no CDN, ever
    assert not any(token in url for url in watch.requests), "the token leaked into a URL"


# --- the page under slow, failing and refusing networks ------------------------------------------
# One `insights reader` keeping RETENTION days over keys no worker writes (every period missing),
# with tokens for two orgs. The browser's own routing slows, holds or fails chosen requests.

RETENTION = 60
OTHER_ORG = "globex"
READY = 'body[data-state="ready"]'
RouteHandler = Callable[[Route], Awaitable[None]]


@dataclass
class ShortReader:
    """The reader's URL and a token per org."""

    base_url: str
    tokens: dict[str, str]


@pytest.fixture(scope="module")
async def short_reader(
    stack: StackEndpoints, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[ShortReader]:
    """`insights reader` with INSIGHTS_RETENTION_DAYS=60 and tokens for acme and globex."""
    require_chromium()
    prefix = f"k{uuid.uuid4().hex[:10]}"
    env = {
        "INSIGHTS_KAFKA_BOOTSTRAP": stack.kafka_bootstrap,
        "INSIGHTS_REDIS_URL": stack.redis_url,
        "INSIGHTS_KEY_PREFIX": prefix,
        "INSIGHTS_RETENTION_DAYS": str(RETENTION),
    }
    settings = Settings(redis_url=stack.redis_url, key_prefix=prefix)
    tokens = {org: await create_token(settings, org) for org in (ORG, OTHER_ORG)}
    with reader_process(env, tmp_path_factory.mktemp("short-reader") / "reader.log") as base_url:
        yield ShortReader(base_url, tokens)


@pytest.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium for this module's pages."""
    async with chromium() as launched:
        yield launched


@pytest.fixture
async def page(browser: Browser) -> AsyncIterator[Page]:
    """A fresh browser context (own session storage) per test, in English, without motion."""
    context = await browser.new_context(viewport=DESKTOP, reduced_motion="reduce", locale="en-US")
    try:
        yield await context.new_page()
    finally:
        await context.close()


async def open_dashboard(page: Page, reader: ShortReader, org: str = ORG) -> None:
    """Load the page, sign in as the org and wait for its first chart."""
    await page.goto(reader.base_url + "/")
    await sign_in(page, reader.tokens[org], org)
    await page.wait_for_selector(READY)


def asks(*parts: str) -> Callable[[str], bool]:
    """A URL predicate: a request whose URL holds every part."""
    return lambda url: all(part in url for part in parts)


def held(release: asyncio.Event, then: RouteHandler | None = None) -> RouteHandler:
    """A route handler that holds each request until `release` is set, then lets it through
    (or hands it to `then`); a request the page aborted meanwhile is simply dropped."""

    async def handle(route: Route) -> None:
        await release.wait()
        with suppress(PlaywrightError):
            await (then(route) if then else route.continue_())

    return handle


def day(offset: int) -> str:
    """Today (UTC) plus `offset` days, as YYYY-MM-DD."""
    return (datetime.now(UTC).date() + timedelta(days=offset)).isoformat()


def domains_document(org: str, domain: str) -> dict[str, Any]:
    """A domains answer naming one domain."""
    claim = {"claimed_at": "2026-01-01T00:00:00Z", "released_at": None, "claimed": True}
    return {
        "org_id": org, "start": day(-29), "end": day(0),
        "domains": [{"domain": domain, **claim, "active_users": 3}],
    }  # fmt: skip


BLANK_STATE = """() => ({
  document: window.insightsDashboard.document,
  domains: window.insightsDashboard.domains,
  labels: Chart.getChart(document.getElementById("chart")).data.labels,
  rows: ["totals", "data-table", "domains"].map(
    (id) => document.querySelectorAll(`#${id} tbody tr`).length),
  shown: document.getElementById("dashboard").dataset.start ?? null,
  csv: document.getElementById("download-csv").disabled,
})"""


async def assert_blank(page: Page) -> None:
    """Nothing of an earlier session is on the page: no chart, tables, domains or CSV."""
    blank = {"document": None, "domains": None, "labels": [], "rows": [0, 0, 0], "shown": None}
    assert await page.evaluate(BLANK_STATE) == {**blank, "csv": True}


async def test_switching_organizations_shows_nothing_of_the_last_one(
    page: Page, short_reader: ShortReader
) -> None:
    """Forget token, sign in as another org on a slow network: until its answer comes, nothing
    of the first org's is shown under the new name, and its failure names no old range."""
    await open_dashboard(page, short_reader)
    await page.wait_for_selector("#domains tbody tr")
    release = asyncio.Event()

    async def fail(route: Route) -> None:
        await route.fulfill(status=500, json={"error": "boom", "message": "the test failed it"})

    await page.route(asks(f"/orgs/{OTHER_ORG}/"), held(release, fail))
    await page.click("#sign-out")
    await page.wait_for_selector('body[data-state="signed-out"]')
    await assert_blank(page)
    await sign_in(page, short_reader.tokens[OTHER_ORG], OTHER_ORG)
    await page.wait_for_selector('body[data-state="loading"]')
    assert await page.inner_text("#session-org") == OTHER_ORG
    await assert_blank(page)
    release.set()
    await page.wait_for_selector('body[data-state="error"]')
    notice = await page.inner_text("#status")
    assert "the test failed it" in notice, notice
    assert "still shows" not in notice, notice


async def test_a_late_answer_for_the_last_organization_never_fills_the_new_ones_domains(
    page: Page, short_reader: ShortReader
) -> None:
    """acme's domains answer after the switch to globex: globex's domains stay on screen."""
    release, answered = asyncio.Event(), asyncio.Event()

    async def late_acme(route: Route) -> None:
        try:
            await held(release, lambda r: r.fulfill(json=domains_document(ORG, "acme.com")))(route)
        finally:
            answered.set()

    await page.route(asks(f"/orgs/{ORG}/domains"), late_acme)
    globex = domains_document(OTHER_ORG, "globex.com")
    await page.route(asks(f"/orgs/{OTHER_ORG}/domains"), lambda route: route.fulfill(json=globex))
    await open_dashboard(page, short_reader)
    await page.click("#sign-out")
    await sign_in(page, short_reader.tokens[OTHER_ORG], OTHER_ORG)
    await page.wait_for_selector('#domains tr[data-domain="globex.com"]')
    release.set()
    await answered.wait()
    await page.wait_for_timeout(300)  # time for a late answer to be (wrongly) drawn
    listed = await page.eval_on_selector_all(
        "#domains tbody tr", "rows => rows.map(row => row.dataset.domain)"
    )
    assert listed == ["globex.com"]
    assert await page.evaluate("() => window.insightsDashboard.domains.org_id") == OTHER_ORG


WATCH_STATES = """() => {
  window.seenStates = [];
  new MutationObserver(() => window.seenStates.push(document.body.dataset.state))
    .observe(document.body, { attributes: true, attributeFilter: ["data-state"] });
}"""


async def test_a_date_typed_digit_by_digit_is_loaded_once(
    page: Page, short_reader: ShortReader
) -> None:
    """Typing a date (its year passes through 0002, 0020, 0202) asks the API once, for the date
    typed, and never shows an error; both inputs are bounded to the days the reader keeps."""
    await open_dashboard(page, short_reader)
    bounds = {"min": day(1 - RETENTION), "max": day(0)}
    for field_id in ("#start", "#end"):
        assert {k: await page.get_attribute(field_id, k) for k in bounds} == bounds, field_id
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/active-users" in r.url else None)
    await page.evaluate(WATCH_STATES)
    target = datetime.now(UTC).date() - timedelta(days=10)
    await page.focus("#start")  # the month, in en-US's mm/dd/yyyy
    await page.keyboard.type(target.strftime("%m%d%Y"), delay=120)
    await page.wait_for_selector(f'{READY} #dashboard[data-start="{target.isoformat()}"]')
    await page.wait_for_timeout(800)  # longer than the typing pause: nothing else comes
    assert [httpx.URL(url).params["start"] for url in asked] == [target.isoformat()]
    assert "error" not in await page.evaluate("() => window.seenStates")


async def test_an_end_after_today_is_refused_without_asking(
    page: Page, short_reader: ShortReader
) -> None:
    """Future days would be drawn as missing: the end is capped at today, UTC."""
    await open_dashboard(page, short_reader)
    asked: list[str] = []
    page.on("request", lambda r: asked.append(r.url) if "/active-users" in r.url else None)
    await page.fill("#end", day(3))
    await page.wait_for_selector('body[data-state="error"]', timeout=5000)
    notice = await page.inner_text("#status")
    assert "cannot be after today" in notice, notice
    assert asked == []
    assert await page.is_disabled("#download-csv")


async def test_the_csv_button_waits_for_the_new_answer(
    page: Page, short_reader: ShortReader
) -> None:
    """While another document loads, the CSV of the one still drawn is not offered."""
    await open_dashboard(page, short_reader)
    assert await page.is_enabled("#download-csv")
    release = asyncio.Event()
    await page.route(asks("/active-users", "product=jira"), held(release))
    await page.select_option("#product", "jira")
    await page.wait_for_selector('body[data-state="loading"]')
    assert await page.is_disabled("#download-csv")
    release.set()
    await page.wait_for_selector(f'{READY} #dashboard[data-product="jira"]')
    assert await page.is_enabled("#download-csv")


async def test_presets_fit_the_retention(page: Page, short_reader: ShortReader) -> None:
    """With 60 days kept, "Last 90 days" asks for the 60 kept days (the API refuses 90) and
    says so; "Last 12 months", the same range again, is hidden."""
    await page.goto(short_reader.base_url + "/")
    meta = 'meta[name="insights-retention-days"]'
    assert await page.get_attribute(meta, "content") == str(RETENTION)
    assert await page.inner_text('#range option[value="90d"]') == "Last 60 days (all kept)"
    assert await page.get_attribute('#range option[value="12m"]', "hidden") is not None
    assert await page.inner_text('#range option[value="7d"]') == "Last 7 days"
    await sign_in(page, short_reader.tokens[ORG])
    await page.wait_for_selector(READY)
    await page.select_option("#range", "90d")
    shown = f'#dashboard[data-start="{day(1 - RETENTION)}"][data-end="{day(0)}"]'
    await page.wait_for_selector(f"{READY} {shown}", timeout=5000)


OUTAGE = {"error": "redis_unavailable", "message": "Redis is unreachable (ConnectionError)"}


async def test_after_a_503_the_page_retries_by_itself(
    page: Page, short_reader: ShortReader
) -> None:
    """A 503's Retry-After is honoured without a click, and only while the same view is wanted."""
    await open_dashboard(page, short_reader)
    outages: list[str] = []

    async def once_down(route: Route) -> None:
        if route.request.url in outages:
            await route.continue_()
            return
        outages.append(route.request.url)
        await route.fulfill(status=503, headers={"Retry-After": "1"}, json=OUTAGE)

    await page.route(asks("/active-users", "product=jira"), once_down)
    await page.select_option("#product", "jira")
    await page.wait_for_selector('body[data-state="error"]')
    assert "Retrying in 1 s" in await page.inner_text("#status")
    await page.wait_for_selector(f'{READY} #dashboard[data-product="jira"]', timeout=5000)
    # An outage for a view the user has since left is not retried.
    await page.route(asks("/active-users", "product=confluence"), once_down)
    await page.select_option("#product", "confluence")
    await page.wait_for_selector('body[data-state="error"]')
    await page.select_option("#product", "trello")
    await page.wait_for_selector(f'{READY} #dashboard[data-product="trello"]')
    await page.wait_for_timeout(1500)
    assert await page.get_attribute("#dashboard", "data-product") == "trello"
    assert len(outages) == 2


async def test_a_stalled_request_ends_in_a_message(page: Page, short_reader: ShortReader) -> None:
    """No answer in 30 s: the page stops waiting and says so (the clock is fast-forwarded)."""
    await page.clock.install()
    await open_dashboard(page, short_reader)
    never = asyncio.Event()
    await page.route(asks("/active-users", "product=jira"), held(never))
    await page.select_option("#product", "jira")
    await page.wait_for_selector('body[data-state="loading"]')
    await page.clock.fast_forward(31_000)
    await page.wait_for_selector('body[data-state="error"]', timeout=5000)
    notice = await page.inner_text("#status")
    assert "did not answer within 30 s" in notice, notice
    never.set()


async def test_signing_in_moves_focus_to_the_dashboard(
    page: Page, short_reader: ShortReader
) -> None:
    """The sign-in form disappears; focus lands on the dashboard's heading, not on <body>."""
    await open_dashboard(page, short_reader)
    assert await page.evaluate("() => document.activeElement.id") == "dashboard-title"


async def test_a_period_not_over_without_data_says_not_yet(
    page: Page, short_reader: ShortReader
) -> None:
    """Missing and partial (not over, nothing arrived yet): drawn as missing, worded "not yet";
    a past missing period still says that no data arrived."""

    async def last_period_pending(route: Route) -> None:
        response = await route.fetch()
        document = await response.json()
        count = len(document["periods"])
        document["missing"] = [True] * count
        document["partial"] = [i == count - 1 for i in range(count)]
        document["series"] = {name: [None] * count for name in SERIES}
        await route.fulfill(response=response, json=document)

    await page.route(asks("/active-users"), last_period_pending)
    await open_dashboard(page, short_reader)
    await page.select_option("#range", "7d")
    await page.wait_for_selector(f'{READY} #dashboard[data-start="{day(-6)}"]')
    assert (await tooltip_at(page, 0))["footer"] == ["Missing: no data arrived for this period"]
    assert (await tooltip_at(page, 6))["footer"] == ["No data yet: this period is not over"]
    rows = await page.eval_on_selector_all(
        "#data-table tbody tr", "rows => rows.map(r => [r.className, r.cells[1].textContent])"
    )
    assert rows[0] == ["missing", "missing"]
    assert rows[6] == ["missing pending", "no data yet (not over)"]
