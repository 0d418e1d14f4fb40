"""Short names of Chinese securities firms (and their Hong Kong arms) as they sign their research, for finding the
broker of a report whose broker is not yet in the scale registry.

This is a plain list of firm names (public knowledge), longest names matched first so that ``国元证券(香港)`` is not
read as ``国元证券`` and ``中信建投证券`` not as ``中信``. The registry (``configs/ratings``) stays the authority on
canonical names and aliases: :func:`engine.signals.extract.detect_broker_flat` maps a name found here through
``registry.canonical`` when the registry knows it.
"""

from __future__ import annotations

__all__ = ["KNOWN_BROKERS"]

KNOWN_BROKERS: tuple[str, ...] = (
    "中信证券", "中信建投证券", "国泰君安证券", "国泰海通证券", "国泰海通", "海通证券", "海通国际", "华泰证券", "广发证券",
    "招商证券", "申万宏源", "申银万国", "国信证券", "中金公司", "中国银河证券", "银河证券", "东方证券", "兴业证券",
    "光大证券", "安信证券", "国投证券", "长江证券", "方正证券", "国元证券", "西南证券", "东吴证券", "东北证券",
    "浙商证券", "华西证券", "国海证券", "国盛证券", "天风证券", "民生证券", "国联证券", "国联民生证券", "中泰证券",
    "华安证券", "太平洋证券", "东莞证券", "新时代证券", "华金证券", "山西证券", "长城国瑞证券", "东方财富证券",
    "信达证券", "国金证券", "上海证券", "中银国际证券", "中银证券", "华龙证券", "平安证券", "开源证券", "财通证券",
    "德邦证券", "首创证券", "华创证券", "华鑫证券", "万联证券", "中原证券", "渤海证券", "川财证券", "东兴证券",
    "西部证券", "湘财证券", "爱建证券", "华宝证券", "国都证券", "英大证券", "中航证券", "中邮证券", "甬兴证券",
    "江海证券", "财信证券", "世纪证券", "长城证券", "国开证券", "粤开证券", "华福证券", "联储证券", "华源证券",
    "诚通证券", "东海证券", "南京证券", "中山证券", "五矿证券", "申港证券", "华兴证券", "大同证券", "麦高证券",
    "群益证券", "辉立证券", "招银国际", "交银国际", "建银国际", "浦银国际", "安信国际", "兴证国际", "国元国际",
    "中泰国际", "第一上海", "华泰金融控股(香港)", "国信证券(香港)", "国元证券(香港)", "平安证券(香港)", "东吴证券国际",
    "环球富盛", "中国国际金融",
)
