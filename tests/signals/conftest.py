"""Small synthetic reports for the signals tests (written for these tests; not copies of the seed reports)."""

from __future__ import annotations

import pytest

SCALE_SECTION = """
评级说明

投资建议评级标准\t评级\t说明
以报告发布日后的 12 个月内公司股价相对同期基准指数的涨跌幅为基准。其中：A 股以沪深 300 指数为基准；港股以恒生指数为基准。\t推荐\t相对基准指数涨幅 15%以上
\t谨慎推荐\t相对基准指数涨幅 5% ~ 15%之间
\t中性\t相对基准指数涨幅-5% ~ 5%之间
\t回避\t相对基准指数跌幅 5%以上
行业评级\t推荐\t相对基准指数涨幅 5%以上
\t中性\t相对基准指数涨幅-5% ~ 5%之间
\t回避\t相对基准指数跌幅 5%以上
"""

BODY = """
半导体设备国产化加速

2024年05月10日

推荐

维持评级

分析师 张三

重点公司盈利预测、估值与评级

代码\t简称\t股价\tEPS(元)\t\tPE(倍)\t\t评级
\t\t(元)\t2024E\t2025E\t2024E\t2025E\t
002371.SZ\t北方华创\t300.50\t5.10\t6.80\t59\t44\t推荐
688012.SH\t中微公司\t150.20\t2.00\t2.60\t75\t58\t谨慎推荐

资料来源：Wind，民生证券研究院预测（注：股价为2024年5月9日收盘价）

相关研究
1.半导体行业点评：设备订单回暖-2024/04/20

投资建议：设备需求回暖，建议关注：拓荆科技（688072.SH）、芯源微（688037.SH）。

民生证券股份有限公司
"""


def make_report(with_scale: bool = True, broker: str = "民生证券") -> str:
    text = BODY.replace("民生证券", broker)
    return text + (SCALE_SECTION if with_scale else "")


@pytest.fixture
def report_text() -> str:
    """A 民生-style industry report: date 2024-05-10, two rated stocks, two mentions with codes, own 评级说明."""
    return make_report()


@pytest.fixture
def make_text():
    """``make_text(with_scale=True, broker="民生证券")`` → a synthetic report text."""
    return make_report
