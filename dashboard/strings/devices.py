"""UI strings of device charts and the estate plan: key -> (zh-CN, English).

``dev_m_<metric>`` names each metric of the catalogue (gateway/protocol/catalog/*.yaml lists names and units
only); a metric without an entry is shown by its catalogue name.
"""

from __future__ import annotations

METRIC_NAMES: dict[str, tuple[str, str]] = {
    # elevator (GB/T 24476)
    "car_position": ("轿厢所在楼层", "Car position"),
    "car_status": ("轿厢运行状态", "Car running"),
    "car_direction": ("运行方向", "Direction"),
    "door_zone": ("门区位置", "Door zone"),
    "door_status": ("门状态", "Door state"),
    "passenger_status": ("轿内有无乘客", "Passenger in car"),
    "service_mode": ("服务模式", "Service mode"),
    "speed": ("轿厢速度", "Car speed"),
    "load": ("载重", "Load"),
    "motor_current": ("电机电流", "Motor current"),
    "vibration": ("轿厢振动", "Car vibration"),
    "door_close_time": ("关门时间", "Door closing time"),
    "run_count": ("运行次数", "Run count"),
    "running_hours": ("累计运行时间", "Running hours"),
    # fire system (GB 50974)
    "sprinkler_end_pressure": ("喷淋末端压力", "Sprinkler end-of-line pressure"),
    "hydrant_pressure": ("消火栓压力", "Hydrant pressure"),
    "fire_tank_level": ("消防水箱水位", "Fire tank level"),
    "jockey_pump_running": ("稳压泵运行", "Jockey pump running"),
    "jockey_pump_current": ("稳压泵电流", "Jockey pump current"),
    "fire_pump_running": ("消防泵运行", "Fire pump running"),
    "fire_pump_auto": ("消防泵自动状态", "Fire pump in auto"),
    "fire_pump_current": ("消防泵电流", "Fire pump current"),
    "fire_pump_vibration": ("消防泵振动", "Fire pump vibration"),
    # secondary water supply and drainage
    "tank_level": ("水箱水位", "Tank level"),
    "inlet_pressure": ("进水压力", "Inlet pressure"),
    "outlet_pressure": ("出水压力", "Outlet pressure"),
    "pump1_running": ("1号泵运行", "Pump 1 running"),
    "pump1_frequency": ("1号泵频率", "Pump 1 frequency"),
    "pump1_current": ("1号泵电流", "Pump 1 current"),
    "pump1_vibration": ("1号泵振动", "Pump 1 vibration"),
    "pump2_running": ("2号泵运行", "Pump 2 running"),
    "pump2_frequency": ("2号泵频率", "Pump 2 frequency"),
    "pump2_current": ("2号泵电流", "Pump 2 current"),
    "pump2_vibration": ("2号泵振动", "Pump 2 vibration"),
    "pumps_auto": ("水泵自动状态", "Pumps in auto"),
    "residual_chlorine": ("余氯", "Residual chlorine"),
    "turbidity": ("浊度", "Turbidity"),
    "sump_level": ("集水坑液位", "Sump level"),
}

STRINGS: dict[str, tuple[str, str]] = {
    **{f"dev_m_{metric}": names for metric, names in METRIC_NAMES.items()},
    "dev_unit_floor": ("层", "floor"),
    "dev_unit_count": ("次", "times"),
    "dev_state": ("状态", "state"),
    "dev_code": ("原始代码", "raw code"),
    "dev_id": ("编号", "ID"),
    # the alarm page's readings chart
    "dev_alarm_readings": ("报警前后读数（报警前30分钟至消除后30分钟，未消除则至现在）", "Readings from 30 min "
                           "before the alarm to 30 min after it cleared (to now while open)"),
    "dev_alarm_cleared": ("消除时间", "Cleared"),
    "dev_charts": ("历史曲线", "History"),
    "dev_range": ("时间范围", "Range"),
    "dev_range_1h": ("1小时", "1 h"),
    "dev_range_6h": ("6小时", "6 h"),
    "dev_range_24h": ("24小时", "24 h"),
    "dev_range_7d": ("7天", "7 d"),
    "dev_range_30d": ("30天", "30 d"),
    "dev_range_90d": ("90天", "90 d"),
    "dev_zone_note": ("时间为小区当地时间", "Times are the estate's local time"),
    "dev_zoom_hint": ("滚轮或拖动下方滑块缩放；缩小到6天以内时按分钟取数", "Scroll or drag the slider to zoom; "
                      "under 6 days the chart reloads in 1-minute buckets"),
    "dev_reset_zoom": ("还原", "Reset zoom"),
    "dev_res_raw": ("原始数据", "raw points"),
    "dev_res_1m": ("1分钟汇总", "1-minute rollups"),
    "dev_res_1h": ("1小时汇总", "hourly rollups"),
    "dev_never_reported": ("尚未上报的指标", "Never reported"),
    "dev_no_data": ("该时间范围内无数据", "No data in this range"),
    "dev_loading": ("加载中…", "Loading…"),
    "dev_load_failed": ("曲线加载失败", "The chart could not load"),
    "dev_lib_missing": ("图表库未安装（在服务器上运行 make 安装 node_modules/echarts）",
                        "Chart library missing (run make on the server to install node_modules/echarts)"),
    "dev_thresholds": ("报警阈值", "Alarm thresholds"),
    "dev_above": ("高于", "above"),
    "dev_below": ("低于", "below"),
    "dev_avg": ("平均", "avg"),
    "dev_min": ("最小", "min"),
    "dev_max": ("最大", "max"),
    "dev_open_alarms": ("未消除报警", "Open alarms"),
    "dev_no_open_alarms": ("无未消除报警", "No open alarms"),
    "dev_site_devices": ("小区级设施", "Estate facilities"),
    # the estate plan
    "dev_plan": ("小区平面图", "Estate plan"),
    "dev_plan_hint_admin": ("拖动楼栋或设备调整位置，松开即保存", "Drag a building or device to move it; it is "
                            "saved when you let go"),
    "dev_plan_hint": ("点击设备查看曲线，点击报警标记查看报警", "Click a device for its charts, an alarm badge for "
                      "the alarm"),
    "dev_plan_saved": ("位置已保存", "Position saved"),
    "dev_plan_save_failed": ("位置保存失败", "Could not save the position"),
    "dev_legend": ("图例", "Legend"),
    "dev_ok": ("正常", "Normal"),
    "dev_offline": ("离线", "Offline"),
    "dev_list": ("设备清单", "Device list"),
    "dev_kind_elevator": ("电梯", "Elevator"),
    "dev_kind_fire_system": ("消防控制室", "Fire control room"),
    "dev_kind_water_supply": ("二次供水泵房", "Pump room"),
    "dev_kind_drainage": ("集水坑", "Sump"),
    "dev_presence_online": ("在线", "Online"),
    "dev_presence_offline": ("离线", "Offline"),
    "dev_presence_unknown": ("在线状态未知", "Presence unknown"),
}
