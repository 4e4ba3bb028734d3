"""A care group of one practice, De Linde (dm2 since 2023), with a board member and two officers: enough for the
tests of what officers record of their conversations and their support."""

LINDE = "01234567"
DESCRIPTION = f"""
care_group: Cohaesie
board: [B. de Vries <bestuur@cohaesie.example>]
officers: [A. Jansen <a.jansen@cohaesie.example>, P. de Boer <p.deboer@cohaesie.example>]
practices:
  "{LINDE}": {{name: Huisartsenpraktijk De Linde, gp_group: HAGRO-WEST, programmes: {{dm2: 2023-01-01}}}}
"""
