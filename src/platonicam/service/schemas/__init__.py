"""The API's JSON shapes (pydantic). camelCase keys exist here and nowhere else.

Models inherit :class:`~platonicam.service.schemas.base.ApiModel`, which writes
snake_case attributes as camelCase keys and accepts either on input. The
OAuth2 token response keeps the snake_case keys RFC 6749 defines.
"""
