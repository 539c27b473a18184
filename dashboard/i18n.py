"""UI strings in zh-CN (default) and English."""

from __future__ import annotations

from typing import Protocol

from dashboard.strings import admin, crew, devices, draws, errors, owners, shell, supervision, work_orders

LANGS = ("zh", "en")
_SHARED: dict[str, tuple[str, str]] = {
    "app": ("物业物联监控调度", "propwatch"),
    "login": ("登录", "Sign in"), "logout": ("退出", "Sign out"),
    "username": ("用户名", "Username"), "password": ("密码", "Password"),
    "bad_login": ("用户名或密码错误", "Wrong username or password"),
    "login_throttled": ("登录失败次数过多，请稍后再试", "Too many failed sign-ins; try again later"),
    "no_board": ("您的账号未关联小区公示栏", "No public board is linked to your account"),
    "console": ("报警台", "Alarm console"), "estate": ("小区总览", "Estate overview"),
    "work_orders": ("工单看板", "Work orders"), "responsibility": ("权责清单", "Responsibility list"),
    "fund": ("维修资金审批", "Fund approvals"), "kpi": ("绩效报表", "KPI report"),
    "crew": ("我的工单", "My orders"), "board": ("信息公示栏", "Public information board"),
    "severity": ("级别", "Severity"), "state": ("状态", "State"), "title": ("内容", "Title"),
    "device": ("设备", "Device"), "site": ("小区", "Site"), "time": ("时间", "Time"),
    "actions": ("操作", "Actions"), "ack": ("确认", "Acknowledge"), "assign": ("指派", "Assign"),
    "silence": ("静默", "Silence"), "clear": ("消除", "Clear"), "comment": ("备注", "Comment"),
    "assignee": ("指派给", "Assign to"), "hours": ("小时", "hours"),
    "no_alarms": ("当前无报警", "No alarms"), "live": ("实时", "Live"),
    "accept": ("接单", "Accept"), "en_route": ("出发", "En route"), "on_site": ("到场", "On site"),
    "start_work": ("开始维修", "Start work"), "resolve": ("完成", "Resolve"), "verify": ("验收", "Verify"),
    "close": ("关闭", "Close"), "note": ("处理说明", "Note"), "cost": ("费用(元)", "Cost (CNY)"),
    "parts": ("配件", "Parts"), "photo": ("照片", "Photo"), "upload": ("上传", "Upload"),
    "due": ("时限", "Due"), "overdue": ("已超时", "Overdue"), "escalated": ("已升级", "Escalated"),
    "approve": ("批准", "Approve"), "reject": ("驳回", "Reject"), "amount": ("金额(元)", "Amount (CNY)"),
    "maintenance_units": ("维保单位及联系方式", "Maintenance units and contacts"),
    "elevator_spending": ("电梯维保支出", "Elevator maintenance spending"),
    "fund_disclosures": ("维修资金使用公示", "Maintenance fund use"),
    "complaint_phones": ("投诉电话", "Complaint phone numbers"),
    "apportionment": ("分摊", "Apportionment"), "phone": ("电话", "Phone"), "name": ("名称", "Name"),
    "pending_data": ("暂无数据", "No data yet"), "buildings": ("楼栋", "Buildings"),
    # public information board (clause 19, issue 20)
    "board_updated": ("更新于", "Updated"), "board_print": ("打印公示", "Print"),
    "maintainer_operator": ("物业服务中心", "property service centre"),
    "maintainer_admin": ("物业服务企业", "property company"), "maintainer_system": ("系统", "system"),
    "manager": ("项目负责人", "Project manager"), "company": ("物业服务企业", "Property company"),
    "contract_period": ("合同期限", "Contract period"), "service_level": ("服务等级", "Service level"),
    "stars": ("信用星级", "Credit stars"), "credit_rating": ("信用评价", "Credit rating"),
    "credit_details": ("评分依据", "How it was scored"), "redlisted": ("红名单", "Red list"),
    "blacklisted": ("黑名单", "Black list"), "standard": ("服务标准", "Standard"),
    "price_changes": ("价格调整记录", "Price adjustments"), "effective_from": ("生效日期", "Effective from"),
    "basis": ("依据", "Basis"),
    "kind_contract": ("合同约定服务", "Under the contract"), "kind_extra": ("有偿特约服务", "Paid extra services"),
    "bookable": ("可预约", "bookable"),
    "spaces_total": ("车位总数", "Spaces"), "spaces_sold": ("已出售", "Sold"), "spaces_rented": ("已出租", "Rented"),
    "spaces_visitor": ("访客车位", "Visitor"), "spaces_vacant": ("空置", "Vacant"),
    "utility_water": ("公共用水", "Shared water"), "utility_power": ("公共用电", "Shared power"),
    "method_area": ("按建筑面积分摊", "shared by floor area"), "method_household": ("按户均摊", "shared per household"),
    "per_m2": ("元/m²", "CNY/m²"), "per_household": ("元/户", "CNY/household"),
    "income": ("收入", "Income"), "spending": ("支出", "Spending"), "net_balance": ("结余", "Balance"),
    "this_month": ("本月", "This month"), "this_year": ("本年", "This year"), "last_year": ("上年", "Last year"),
    "work_order_costs": ("维修工单实际费用", "Repair work orders"),
    "fund_draws_other": ("维修资金其他支出", "Other fund draws"), "repairs": ("维修次数", "Repairs"),
    "vote_approved": ("通过", "approved"), "vote_rejected": ("未通过", "not approved"),
    "vote_participating": ("参与表决", "Took part"), "vote_yes": ("同意", "in favour"),
    "vote_households": ("户", "homes"), "fund_opening": ("年初余额", "Opening"),
    "fund_deposited": ("交存", "Deposited"), "fund_interest": ("利息", "Interest"), "fund_used": ("使用", "Used"),
    "fund_closing": ("年末余额", "Closing"),
    # owner home-service bookings (clause 15, issue 20)
    "home_services": ("居家生活服务预约", "Home services"), "book_service": ("预约服务", "Book a service"),
    "service": ("服务项目", "Service"), "slot_date": ("日期", "Date"), "slot_time": ("开始时间", "Start"),
    "duration": ("时长（小时）", "Hours"), "book": ("提交预约", "Book"), "my_bookings": ("我的预约", "My bookings"),
    "booking_requested": ("待确认", "requested"), "booking_confirmed": ("已确认", "confirmed"),
    "booking_done": ("已完成", "done"), "booking_rated": ("已评价", "rated"),
    "booking_cancelled": ("已取消", "cancelled"),
    "cancel_booking": ("取消预约", "Cancel booking"), "rating": ("评分", "Rating"), "rate": ("评价", "Rate"),
    "service_desk": ("服务预约台", "Service desk"), "confirm_booking": ("确认预约", "Confirm"),
    "booking_done_action": ("已上门完成", "Mark done"), "price_label": ("价格", "Price"), "household": ("住户", "Home"),
    "cancel_reason_prompt": ("取消原因（业主可见）", "Reason for cancelling (the owner sees it)"),
    "board_upkeep": ("公示栏维护", "Board upkeep"), "parking_title": ("车位使用情况", "Parking"),
    "apportionment_title": ("公共水电分摊", "Shared water and power"),
    "fee_statement_title": ("物业费收支", "Property fee income and spending"),
    "price_adjustment_title": ("服务价格调整", "Price adjustment"), "month_label": ("月份", "Month"),
    "utility_label": ("类别", "Utility"), "method_label": ("分摊方式", "Shared by"),
    "total": ("金额(元)", "Total (CNY)"),
    "devices": ("设备", "Devices"), "active_alarms": ("未消除报警", "Open alarms"),
    "latest": ("最新值", "Latest values"), "history": ("历史曲线", "History"), "metric": ("指标", "Metric"),
    "save": ("保存", "Save"), "period": ("统计区间", "Period"), "value": ("数值", "Value"),
    "language": ("English", "中文"), "forbidden": ("无权访问", "Not allowed"),
    "events": ("处理记录", "History"), "open_orders": ("进行中工单", "Open work orders"),
    "orders": ("工单数", "Work orders"), "mtta": ("平均确认时长 MTTA", "Mean time to acknowledge (MTTA)"),
    "mttr": ("平均修复时长 MTTR", "Mean time to resolve (MTTR)"), "sla_compliance": ("时限达标率", "SLA compliance"),
    "response_rate": ("3分钟响应率", "3-minute response rate"),
    "arrival_rate": ("30分钟到达率", "30-minute arrival rate"),
    "repeat_fault_rate": ("重复故障率", "Repeat-fault rate"), "false_alarm_rate": ("误报率", "False-alarm rate"),
    "minutes": ("分钟", "min"), "new_ticket": ("新建工单（业主报修 / 12345）", "New ticket (owner report / 12345)"),
    "owner_report": ("业主报修", "Owner report"), "hotline_12345": ("12345热线", "12345 hotline"),
    "category": ("类别", "Category"), "description": ("问题描述", "Description"), "address": ("地点", "Location"),
    "contact": ("回访电话", "Call-back number"), "ticket_no": ("12345工单号", "12345 ticket no."),
    "reply_due": ("答复时限", "Reply due"), "create": ("提交", "Submit"),
    "my_fund": ("我的维修资金", "My maintenance fund"),
    "balance": ("余额", "Balance"), "memo": ("摘要", "Memo"),
    "active": ("未确认", "active"), "pending": ("待定", "pending"), "acknowledged": ("已确认", "acknowledged"),
    "cleared": ("已消除", "cleared"),
    # --- alarm console, alarm detail and error pages (issue 21) ---
    "counts": ("各级别报警数", "Alarms per severity"), "count_open": ("未消除", "open"),
    "count_unacked": ("未确认", "unacked"), "filter_by_severity": ("按此级别筛选", "Filter by this severity"),
    "sev_P0": ("P0 紧急", "P0 critical"), "sev_P1": ("P1 严重", "P1 high"), "sev_P2": ("P2 一般", "P2 medium"),
    "sev_P3": ("P3 提示", "P3 low"),
    "st_pending": ("待生效", "Pending"), "st_active": ("未确认", "Unacknowledged"),
    "st_acknowledged": ("已确认", "Acknowledged"), "st_cleared": ("已消除", "Cleared"),
    "st_latched": ("恢复未确认", "Returned, unacknowledged"),
    "view_all": ("全部未消除", "All open"), "view_unacked": ("未确认", "Unacknowledged"),
    "view_latched": ("恢复未确认", "Returned, unacknowledged"), "view_acknowledged": ("已确认", "Acknowledged"),
    "view_shelved": ("已屏蔽/静默", "Shelved / silenced"),
    "view_history": ("历史（近30天已消除）", "History (cleared, 30 days)"),
    "all": ("全部", "All"), "building": ("楼栋", "Building"),
    "search": ("搜索", "Search"), "search_placeholder": ("内容、设备或楼栋", "Title, device or building"),
    "bulk_ack": ("批量确认", "Acknowledge selected"), "select_all": ("全选本页", "Select this page"),
    "prev_page": ("上一页", "Previous"), "next_page": ("下一页", "Next"),
    "range_of": ("第 {from}–{to} 条，共 {total} 条", "{from}–{to} of {total}"), "open_for": ("持续", "Open for"),
    "shelved_by": ("屏蔽人", "Shelved by"), "until": ("至", "until"),
    "sound_on": ("P0 报警音：响铃中", "P0 sound: ringing"),
    "sound_off": ("P0 报警音：无未确认 P0", "P0 sound: no unacknowledged P0"),
    "sound_blocked": ("P0 报警音：浏览器已阻止，请点击开启", "P0 sound: blocked by the browser, click to allow"),
    "enable_sound": ("开启报警音", "Allow sound"),
    "muted_for": ("已静音，剩余 {t}", "Muted for {t}"), "mute_5min": ("静音 5 分钟", "Mute 5 min"),
    "unmute": ("取消静音", "Unmute"), "confirm": ("确定", "Confirm"), "cancel": ("取消", "Cancel"),
    "confirm_bulk": ("确认所选 {n} 条报警？请填写备注。",
                     "Acknowledge the {n} selected alarms? A comment is required."),
    "confirm_one": ("确定对「{title}」执行「{action}」？", "{action} \u201c{title}\u201d?"),
    "comment_required": ("请填写备注", "A comment is required"),
    # the API's refusal of an acknowledgement without a comment (rules.errors.CommentRequired; static/js/refusal.js)
    "err_CommentRequired": ("确认报警须填写备注：说明已做的处理或已通知的人", "Acknowledging needs a comment: say what "
                            "was done or who was told"),
    "skipped": ("未处理（状态已变）", "Skipped (state changed)"),
    "alarm": ("报警", "Alarm"), "alarm_not_found": ("报警不存在", "No such alarm"), "floor": ("楼层", "Floor"),
    "timeline": ("处理时间线", "Timeline"),
    "readings": ("报警前后读数（±30 分钟）", "Readings around the alarm (±30 min)"),
    "work_order": ("工单", "Work order"), "no_work_order": ("尚未生成工单", "No work order yet"),
    "open_work_order": ("打开工单", "Open work order"), "first_seen": ("首次出现", "First seen"),
    "activated_at": ("报警时间", "Raised"), "returned_at": ("恢复正常时间", "Returned to normal"),
    "acked_at": ("确认时间", "Acknowledged at"), "acked_by": ("确认人", "Acknowledged by"), "by": ("操作人", "By"),
    "system": ("系统", "System"), "reason": ("原因", "Reason"), "time_zone": ("时区", "Time zone"),
    "back_console": ("返回报警台", "Back to the console"),
    "no_readings": ("该时段无读数", "No readings in this window"),
    "shelve": ("屏蔽（静默设备）", "Shelve (silence the device)"), "value_at_alarm": ("报警值", "Value"),
    "tl_raised": ("报警触发", "Raised"), "tl_pending": ("条件出现，等待确认时长", "Condition seen, waiting"),
    "tl_latched": ("已恢复正常，但未确认：保持报警", "Returned to normal unacknowledged: kept (latched)"),
    "tl_ack": ("已确认", "Acknowledged"),
    "tl_ack_cleared": ("确认后消除（此前已恢复正常）", "Cleared on acknowledgement"),
    "tl_assigned": ("已指派", "Assigned"), "tl_hand_cleared": ("人工消除", "Cleared by hand"),
    "tl_order_cleared": ("随工单关闭消除", "Cleared as its work order closed"),
    "tl_cleared": ("恢复正常，已消除", "Returned to normal, cleared"), "tl_other": ("状态变化", "State change"),
    "error_403": ("无权访问此页面", "You may not open this page"),
    "error_403_help": ("该页面不属于您的角色或管辖小区。", "This page is outside your role or your estates."),
    "error_404": ("页面不存在", "Page not found"),
    "error_404_help": ("链接可能已失效，或该记录已被删除。", "The link may be out of date, or the record was removed."),
    "error_503": ("服务暂时不可用", "Service temporarily unavailable"),
    "error_503_help": ("数据库暂时无法访问，请稍后刷新。", "The database is unreachable for now; reload shortly."),
    "back_home": ("返回首页", "Back to the home page"),
}


def _merged(*tables: dict[str, tuple[str, str]]) -> dict[str, tuple[str, str]]:
    """One table of every area's strings; a key two areas define is a mistake caught at import."""
    merged: dict[str, tuple[str, str]] = {}
    for table in tables:
        twice = merged.keys() & table.keys()
        if twice:
            raise ValueError(f"UI string keys defined twice: {sorted(twice)}")
        merged.update(table)
    return merged


STRINGS = _merged(_SHARED, work_orders.STRINGS, crew.STRINGS, owners.STRINGS, devices.STRINGS, admin.STRINGS,
                  supervision.STRINGS, shell.STRINGS, errors.STRINGS,
                  draws.STRINGS)
# Work-order states as operators and crews read them (codes stay in the API).
WORK_ORDER_STATES: dict[str, tuple[str, str]] = {
    "NEW": ("新建", "New"), "ACKED": ("已响应", "Acknowledged"), "DISPATCHED": ("已派单", "Dispatched"),
    "EN_ROUTE": ("在途", "En route"), "ON_SITE": ("已到场", "On site"), "IN_PROGRESS": ("维修中", "In progress"),
    "ON_HOLD": ("暂停", "On hold"), "RESOLVED": ("已修复", "Resolved"), "VERIFIED": ("已验收", "Verified"),
    "CLOSED": ("已关闭", "Closed"), "CANCELLED": ("已取消", "Cancelled"), "FALSE_ALARM": ("误报", "False alarm"),
}


def work_order_states(lang: str) -> dict[str, str]:
    """Work-order state code -> label in ``lang``."""
    return {code: pair[1] if lang == "en" else pair[0] for code, pair in WORK_ORDER_STATES.items()}


class Named(Protocol):
    """Anything with a Chinese name and maybe an English one (an estate: ``ingest.registry.Site``)."""

    @property
    def name(self) -> str: ...

    @property
    def name_en(self) -> str | None: ...


def site_name(site: Named, lang: str) -> str:
    """An estate's name in the reader's language: its English name where it has one, on every page."""
    return site.name_en if lang == "en" and site.name_en else site.name


def translate(key: str, lang: str) -> str:
    """The string for ``key`` in ``lang``; the key itself when unknown."""
    pair = STRINGS.get(key)
    if pair is None:
        return key
    return pair[1] if lang == "en" else pair[0]
