"""The pages in a real browser (Debian's chromium through its chromedriver, driven by selenium)
against a real `speechsmith serve` on the embedded model.

Where no browser is installed these tests skip and say why (install: `apt-get install -y
chromium chromium-driver`); they never pass without having driven the pages.
"""

from __future__ import annotations

import shutil
import time
from pathlib import Path

import pytest

from tests.web_server import ServeProcess

pytestmark = [pytest.mark.model, pytest.mark.browser]

INSTALL = "install Debian's chromium and chromium-driver: apt-get install -y chromium chromium-driver"


def _browser_paths() -> tuple[str, str]:
    driver = shutil.which("chromedriver")
    binary = next((p for p in (shutil.which(n) for n in ("chromium", "chromium-browser", "google-chrome")) if p), None)
    if not driver or not binary:
        pytest.skip(f"no browser to drive the pages ({'chromedriver' if not driver else 'chromium'} not found): {INSTALL}")
    return binary, driver


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with ServeProcess(tmp_path_factory.mktemp("serve-pages")) as s:
        yield s


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads):
    binary, driver_path = _browser_paths()
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        pytest.skip("selenium is not installed: pip install -e '.[test]'")
    options = webdriver.ChromeOptions()
    options.binary_location = binary
    for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu", "--window-size=1400,1000"):
        options.add_argument(arg)
    options.add_experimental_option("prefs", {
        "download.default_directory": str(downloads), "download.prompt_for_download": False,
        "safebrowsing.enabled": False,
    })
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    driver.set_page_load_timeout(60)
    yield driver
    driver.quit()


def _wait(condition, timeout: float, what: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")


def _visible(driver, element_id: str) -> bool:
    from selenium.webdriver.common.by import By

    found = driver.find_elements(By.ID, element_id)
    return bool(found) and found[0].is_displayed()


def test_write_a_speech_from_the_form_see_progress_download_docx(server, browser, downloads):
    from selenium.webdriver.common.by import By

    browser.get(server.url + "/adapt")
    assert "写讲话" in browser.title
    browser.find_element(By.ID, "occasion").send_keys("全县安全生产工作会议")
    browser.find_element(By.ID, "speaker").send_keys("县长")
    browser.find_element(By.ID, "audience").send_keys("各乡镇、县直各部门负责同志")
    points = browser.find_elements(By.CSS_SELECTOR, "#points input.point")
    points[0].send_keys("压实安全生产责任")
    points[1].send_keys("深入开展隐患排查")
    length = browser.find_element(By.ID, "length")
    length.clear()
    length.send_keys("200")
    # the examples are pre-selected by the task's own selection (and can be changed)
    _wait(lambda: browser.find_elements(By.CSS_SELECTOR, "#examples input[type=checkbox]:checked"), 60, "pre-selected examples")
    browser.find_element(By.ID, "submit").click()
    # progress while it drafts: the status line and the steps, before the result is there
    _wait(lambda: _visible(browser, "progress"), 10, "the progress panel")
    steps_before_result = _wait(
        lambda: (not _visible(browser, "result")) and len(browser.find_elements(By.CSS_SELECTOR, "#progress-log li")) >= 2
        and len(browser.find_elements(By.CSS_SELECTOR, "#progress-log li")),
        60, "progress steps while drafting")
    assert steps_before_result >= 2
    assert "job=" in browser.current_url  # the link that fetches the result again
    _wait(lambda: _visible(browser, "result"), 1800, "the finished speech")
    paper = browser.find_element(By.ID, "speech").text
    assert "一、压实安全生产责任" in paper and "二、深入开展隐患排查" in paper
    assert browser.find_element(By.CSS_SELECTOR, "#speech .title").text.startswith("在全县安全生产工作会议上")
    browser.find_element(By.ID, "dl-docx").click()
    files = _wait(lambda: [p for p in downloads.glob("*.docx")], 30, "the downloaded .docx")
    import docx

    text = "\n".join(p.text for p in docx.Document(str(files[0])).paragraphs)
    assert "一、压实安全生产责任" in text and "在全县安全生产工作会议上" in text
    # closing the tab loses nothing: the link shows the same speech again
    link = browser.current_url
    browser.get(server.url + "/check")
    browser.get(link)
    _wait(lambda: _visible(browser, "result"), 30, "the speech again from its link")
    assert browser.find_element(By.ID, "speech").text == paper


REPORT = [
    "同志们：",
    "今天我们召开全县农业农村工作会议，主要任务是总结去年工作，部署今年任务。",
    "去年全县粮食总产量达到52.3万吨，比上年增长3.1%，农民人均可支配收入达到18600元。",
    "今年要重点抓好三件事。一是稳定粮食生产，全年粮食播种面积稳定在86万亩以上。",
    "二是推进乡村建设，年内完成120个村的人居环境整治，农村卫生厕所普及率达到90%。",
    "三是深化农村改革，县农业农村局要牵头做好承包地确权颁证的收尾工作，6月底前全部完成。",
    "各乡镇要压实责任，主要负责同志亲自抓，确保各项任务落到实处。",
    "谢谢大家！",
]


def test_summarize_an_uploaded_docx_and_click_a_point_to_see_its_source(server, browser, tmp_path):
    import docx
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select

    path = tmp_path / "农业农村工作会议讲话.docx"
    document = docx.Document()
    for para in REPORT:
        document.add_paragraph(para)
    document.save(str(path))
    browser.get(server.url + "/summarize")
    browser.find_element(By.ID, "file").send_keys(str(path))
    _wait(lambda: "粮食总产量" in browser.find_element(By.ID, "text").get_property("value"), 20, "the upload's text")
    Select(browser.find_element(By.ID, "length")).select_by_value("short")
    browser.find_element(By.ID, "submit").click()
    _wait(lambda: _visible(browser, "result"), 1200, "the summary")
    items = [i for i in browser.find_elements(By.CSS_SELECTOR, "#summary .item") if i.get_attribute("data-source")]
    assert items, "no summary item names its source paragraphs"
    item = next((i for i in items if "point" in i.get_attribute("class")), items[0])
    item.click()
    numbers = [int(n) for n in item.get_attribute("data-source").split(",")]
    lit = browser.find_elements(By.CSS_SELECTOR, "#source li.hl")
    assert [int(li.get_attribute("value")) for li in lit] == numbers
    assert all(li.text == REPORT[int(li.get_attribute("value")) - 1] for li in lit)
    assert "on" in item.get_attribute("class")


def test_check_a_pasted_text_and_apply_a_fix(server, browser):
    from selenium.webdriver.common.by import By

    browser.get(server.url + "/check")
    text = "同志们：\n今天我们召开会议,部署安全生产工作。\n各单位要高度重视,抓好落实。\n谢谢大家！"
    box = browser.find_element(By.ID, "text")
    browser.execute_script("arguments[0].value = arguments[1];", box, text)  # a paste
    browser.find_element(By.ID, "submit").click()
    _wait(lambda: _visible(browser, "result"), 60, "the findings")
    findings = browser.find_elements(By.CSS_SELECTOR, "#findings li")
    assert any("可自动修改" in f.text for f in findings)
    marks = browser.find_elements(By.CSS_SELECTOR, "#marked mark")
    assert any(m.text == "," for m in marks)  # the half-width comma is highlighted in the text
    browser.find_element(By.ID, "fix").click()
    _wait(lambda: "已应用安全修改" in browser.find_element(By.ID, "counts").text, 60, "the fixed text")
    fixed = browser.find_element(By.ID, "text").get_property("value")
    assert "," not in fixed and "召开会议，部署安全生产工作" in fixed
    assert not any(m.text == "," for m in browser.find_elements(By.CSS_SELECTOR, "#marked mark"))
