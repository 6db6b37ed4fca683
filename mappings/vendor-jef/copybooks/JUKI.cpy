000010*----------------------------------------------------------------
000020* 住民記録ファイル JUKI.DAT（合成データ）  RECFM=VB  文字コード JEF
000030* レコード区分 1:ヘッダ 2:住民 3:世帯 9:トレーラ
000040*----------------------------------------------------------------
000050 01  JUKI-HEADER.
000060     05  REC-KBN            PIC X       VALUE '1'.
000070     05  SAKUSEI-YMD        PIC 9(8).
000080     05  SHICHOSON-CD       PIC X(6).
000090 01  JUMIN-REC.
000100     05  REC-KBN            PIC X       VALUE '2'.
000110     05  ATENA-NO           PIC 9(15).
000120     05  SETAI-NO           PIC 9(15).
000130     05  JUMINHYO-CD        PIC 9(11).
000140     05  KOJIN-NO           PIC 9(12).
000150     05  SHIMEI             PIC N(20).
000160     05  SHIMEI-KANA        PIC X(40).
000170     05  BIRTH-YMD          PIC S9(8)   COMP-3.
000180     05  SEIBETSU           PIC X.
000190     05  ZOKUGARA           PIC X(2).
000200     05  JUMIN-SHU          PIC X.
000210     05  JOTAI              PIC X.
000220     05  YUBIN-NO           PIC X(7).
000230     05  JUSHO              PIC X(100).
000240     05  KATAGAKI           PIC X(60).
000250     05  JUTEI-YMD          PIC S9(8)   COMP-3.
000260     05  KISAI-JUN          PIC S9(3)   COMP-3.
000270     05  IDO-SU             PIC 9(2).
000280*   異動履歴: 古い順、最大5件
000290     05  IDO-RIREKI         OCCURS 0 TO 5 TIMES
000300                            DEPENDING ON IDO-SU.
000310         10  IDO-JIYU       PIC X(3).
000320         10  IDO-YMD        PIC S9(8)   COMP-3.
000330 01  SETAI-REC.
000340     05  REC-KBN            PIC X       VALUE '3'.
000350     05  SETAI-NO           PIC 9(15).
000360     05  SETAINUSHI-NO      PIC 9(15).
000370     05  YUBIN-NO           PIC X(7).
000380     05  JUSHO              PIC X(100).
000390     05  SETAIIN-SU         PIC 9(3).
000400 01  JUKI-TRAILER.
000410     05  REC-KBN            PIC X       VALUE '9'.
000420     05  KENSU              PIC 9(9).
