#!/usr/bin/env escript
%% SPDX-License-Identifier: MIT
%%
%% uper_interop.escript - cross-checks libv2xcodec's UPER against Erlang/OTP's
%% independent asn1 compiler (uper rules) on our own module
%% V2XJ2735Interop.asn.
%%
%%   escript uper_interop.escript TOOL ASN_FILE WORKDIR COUNT
%%
%% 1. ours -> Erlang: COUNT seeded random BSM, SPaT and PSM messages from
%%    j2735_tool ("gen") must decode with Erlang at every level
%%    (MessageFrame, the message, each Part II VehicleSafetyExtensions) and
%%    re-encode to the same octets; BSM core values must equal ours (JSON).
%% 2. Erlang -> ours: COUNT random BSMs built and encoded by Erlang must
%%    decode with ours ("json") to the same values.
%% Prints "interop: N checked" and exits 0, or prints the first mismatch and
%% exits 1.
-mode(compile).

main([Tool, Asn, Work, CountS]) ->
    Count = list_to_integer(CountS),
    ok = filelib:ensure_dir(filename:join(Work, "x")),
    case asn1ct:compile(Asn, [uper, {outdir, Work}]) of
        ok -> ok;
        Err -> fail("asn1ct:compile: ~p", [Err])
    end,
    true = code:add_patha(Work),
    {module, _} = code:load_file('V2XJ2735Interop'),
    N1 = lists:sum([ours_to_erlang(Tool, Id, Count) || Id <- [20, 19, 32]]),
    N2 = erlang_to_ours(Tool, Work, Count),
    io:format("interop: ~b checked (~b ours->erlang, ~b erlang->ours)~n",
              [N1 + N2, N1, N2]),
    halt(0);
main(_) ->
    io:format("usage: uper_interop.escript TOOL ASN_FILE WORKDIR COUNT~n"),
    halt(2).

fail(Fmt, Args) ->
    io:format("interop FAILED: " ++ Fmt ++ "~n", Args),
    halt(1).

-define(M, 'V2XJ2735Interop').

hex(Bin) -> lists:flatten([io_lib:format("~2.16.0b", [B]) || <<B>> <= Bin]).

unhex(Line) -> << <<(list_to_integer([H, L], 16))>> || <<H, L>> <= Line >>.

%% Decode Bin as Type with Erlang and re-encode: must give Bin back.
same(Type, Bin, What) ->
    case ?M:decode(Type, Bin) of
        {ok, Val} ->
            case ?M:encode(Type, Val) of
                {ok, Bin} -> Val;
                {ok, Other} ->
                    fail("~s: re-encoded ~s, ours ~s", [What, hex(Other), hex(Bin)]);
                E -> fail("~s: encode ~p", [What, E])
            end;
        E -> fail("~s: Erlang cannot decode ours ~s: ~p", [What, hex(Bin), E])
    end.

msg_type(20) -> 'BasicSafetyMessage';
msg_type(19) -> 'SPAT';
msg_type(32) -> 'PersonalSafetyMessage'.

ours_to_erlang(Tool, Id, Count) ->
    Cmd = io_lib:format("~s gen ~b ~b ~b 0", [Tool, 1000 + Id, Count, Id]),
    Lines = string:lexemes(os:cmd(lists:flatten(Cmd)), "\n"),
    length(Lines) =:= Count orelse fail("gen gave ~b lines", [length(Lines)]),
    Jsons = json_of(Tool, Lines),
    lists:foreach(
      fun({Line, Json}) ->
              Bin = unhex(list_to_binary(Line)),
              {'MessageFrame', Id, Value} = same('MessageFrame', Bin, "MessageFrame"),
              Msg = same(msg_type(Id), Value, atom_to_list(msg_type(Id))),
              Id =:= 20 andalso check_bsm(Msg, Json)
      end, lists:zip(Lines, Jsons)),
    Count.

%% BSM: each Part II id 0 holds a VehicleSafetyExtensions; core values agree.
check_bsm({'BasicSafetyMessage', Core, PartII, _Regional}, Json) ->
    case PartII of
        asn1_NOVALUE -> ok;
        List ->
            [same('VehicleSafetyExtensions', V, "VehicleSafetyExtensions")
             || {'PartIIcontent', 0, V} <- List]
    end,
    Want = core_values(Core),
    Got = json_core(Json),
    Want =:= Got orelse fail("BSM core values: Erlang ~p, ours ~p", [Want, Got]).

core_values({'BSMcoreData', MsgCnt, Id, SecMark, Lat, Long, Elev, _Acc, Trans,
             Speed, Heading, Angle, _Accel, _Brakes, {'BSMcoreData_size', W, L}}) ->
    [MsgCnt, string:uppercase(hex(Id)), SecMark, Lat, Long, Elev,
     atom_to_list(Trans), Speed, Heading, Angle, W, L].

%% The same values from our JSON (first occurrence of each member is in
%% coreData, which is printed first).
json_core(Json) ->
    Int = fun(K) -> {match, [V]} = re:run(Json, "\"" ++ K ++ "\":(-?[0-9]+)",
                                          [{capture, all_but_first, list}]),
                    list_to_integer(V) end,
    Str = fun(K) -> {match, [V]} = re:run(Json, "\"" ++ K ++ "\":\"([^\"]*)\"",
                                          [{capture, all_but_first, list}]),
                    V end,
    [Int("msgCnt"), Str("id"), Int("secMark"), Int("lat"), Int("long"),
     Int("elev"), Str("transmission"), Int("speed"), Int("heading"),
     Int("angle") | veh_size(Json)].

veh_size(Json) ->
    {match, [W, L]} = re:run(Json, "\"size\":\\{\"width\":([0-9]+),\"length\":([0-9]+)\\}",
                             [{capture, all_but_first, list}]),
    [list_to_integer(W), list_to_integer(L)].

json_of(Tool, HexLines) ->
    Tmp = lists:flatten(io_lib:format("/tmp/v2x-interop-~s.hex", [os:getpid()])),
    ok = file:write_file(Tmp, [[L, "\n"] || L <- HexLines]),
    Out = os:cmd(Tool ++ " json < " ++ Tmp),
    file:delete(Tmp),
    Lines = string:lexemes(Out, "\n"),
    length(Lines) =:= length(HexLines) orelse fail("json gave ~b lines", [length(Lines)]),
    Lines.

rnd(Lo, Hi) -> Lo + rand:uniform(Hi - Lo + 1) - 1.

erlang_to_ours(Tool, Work, Count) ->
    rand:seed(exsss, {20, 19, 32}),
    Trans = [neutral, park, forwardGears, reverseGears, reserved1, reserved2,
             reserved3, unavailable],
    Msgs = [begin
                Core = {'BSMcoreData', rnd(0, 127), <<(rnd(0, 16#ffffffff)):32>>,
                        rnd(0, 65535), rnd(-900000000, 900000001),
                        rnd(-1799999999, 1800000001), rnd(-4096, 61439),
                        {'PositionalAccuracy', rnd(0, 255), rnd(0, 255), rnd(0, 65535)},
                        lists:nth(rnd(1, 8), Trans), rnd(0, 8191), rnd(0, 28800),
                        rnd(-126, 127),
                        {'AccelerationSet4Way', rnd(-2000, 2001), rnd(-2000, 2001),
                         rnd(-127, 127), rnd(-32767, 32767)},
                        {'BrakeSystemStatus', <<(rnd(0, 31)):5>>, on, off, engaged,
                         unavailable, reserved},
                        {'BSMcoreData_size', rnd(0, 1023), rnd(0, 4095)}},
                {ok, Bsm} = ?M:encode('BasicSafetyMessage',
                                      {'BasicSafetyMessage', Core, asn1_NOVALUE,
                                       asn1_NOVALUE}),
                {ok, Mf} = ?M:encode('MessageFrame', {'MessageFrame', 20, Bsm}),
                {Core, hex(Mf)}
            end || _ <- lists:seq(1, Count)],
    _ = Work,
    Jsons = json_of(Tool, [H || {_, H} <- Msgs]),
    lists:foreach(
      fun({{Core, Hex}, Json}) ->
              string:find(Json, "\"error\"") =:= nomatch orelse
                  fail("ours cannot decode Erlang's ~s: ~s", [Hex, Json]),
              Want = core_values(Core),
              Got = json_core(Json),
              Want =:= Got orelse fail("Erlang ~p, ours ~p", [Want, Got])
      end, lists:zip(Msgs, Jsons)),
    Count.
