"""The care group both Prefect suites run their flows on: two practices with their people, two officers and
a board member (the in-process flows of ``test_prefect_flows.py`` and the served deployments of
``test_prefect_server.py``)."""

from __future__ import annotations

LINDE, EIK = "01234567", "07654321"
DESCRIPTION = f"""
care_group: Cohaesie
officers: [A. Jansen <a.jansen@cohaesie.example>, P. de Boer <p.deboer@cohaesie.example>]
board: [B. de Vries <bestuur@cohaesie.example>]
practices:
  "{LINDE}":
    name: Huisartsenpraktijk De Linde
    programmes: {{dm2: 2023-01-01}}
    people: {{gp_principal: "C. Bakker <c.bakker@delinde.example>", poh_chronic: "D. Mulder <d.mulder@delinde.example>",
              practice_manager: "E. Kok <e.kok@delinde.example>"}}
  "{EIK}":
    name: Praktijk De Eik
    programmes: {{dm2: 2023-01-01, copd: 2023-01-01}}
    people: {{gp_principal: "F. Visser <f.visser@deeik.example>", poh_chronic: "G. Smit <g.smit@deeik.example>",
              practice_manager: "H. Bos <h.bos@deeik.example>"}}
"""
